/* sgxl_config.h — normalises a StyleGAN-XL configuration into the canonical form that
 * nets/stylegan_xl.c reads (documented in nets/stylegan_xl.h).
 *
 * Accepted sources (all describe the same per-layer attributes of the original modules):
 *  - canonical lis configs (pass through);
 *  - the reference bundles' config.json: `synthesis.layers` with in_ch/out_ch/in_size/
 *    up/down/k/torgb/clamp, the input layer as {"name": "input", "out_ch", "out_size",
 *    "out_sr", "bandwidth"};
 *  - the original modules' attribute names, as in the toy world's generator_config.json
 *    and as the pickle reader extracts them: top-level `layers` with in_channels/
 *    out_channels/in_size [h, w]/up_factor/down_factor/conv_kernel/is_torgb/conv_clamp,
 *    the input as {"name": "input", "channels", "size" [h, w], "sampling_rate", "bandwidth"}.
 * This is the one table of key renames; nets never see the source spellings.
 * Values missing from the source are derived from the tensors (c_dim, w_dim, z_dim,
 * num_ws, image size) where that is unambiguous.
 */
#ifndef LIS_SGXL_CONFIG_H
#define LIS_SGXL_CONFIG_H

#include "runtime/json.h"
#include "weights_tools/statedict.h"

/* Writes the canonical JSON text into out. `label` names the source in errors. */
lis_status lis_sgxl_config_normalize(const lis_json *src, const lis_statedict *sd, lis_sbuf *out, const char *label);

#endif
