/* imagenet_classes.h — ImageNet-1k class names (torchvision order), for printing top-k. */
#ifndef LIS_IMAGENET_CLASSES_H
#define LIS_IMAGENET_CLASSES_H

#define LIS_IMAGENET_NUM_CLASSES 1000

extern const char *const lis_imagenet_classes[LIS_IMAGENET_NUM_CLASSES];

#endif
