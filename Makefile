# lis — build. `make` builds ./lis-run (and the CUDA backend when nvcc exists).
#   make test        run every test (CPU; CUDA tests SKIP without a device)
#   make bench       build bench/lis-bench
#   make asan        build and test with AddressSanitizer + UBSan (build-asan/)
#   make fuzz        build the fuzz targets (clang + libFuzzer) and run them briefly
#   make CUDA=0      force a CPU-only build;  make CUDA=1  fail if nvcc is missing
#   make cuda-check  compile every .cu (needs nvcc, no GPU)

CC      ?= gcc
BUILD   ?= build
OPT     ?= -O3 -march=x86-64-v3 -mtune=znver3
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter \
           -fno-math-errno $(OPT) -g -MMD -MP -pthread -I. $(EXTRA_CFLAGS)
LDLIBS  += -lpng -lz -lm -pthread

NVCC    ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
ifeq ($(CUDA),0)
  NVCC :=
endif
ifeq ($(CUDA),1)
  ifeq ($(NVCC),)
    $(error CUDA=1 but nvcc was not found)
  endif
endif
CUDA_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
             -gencode arch=compute_90,code=compute_90
NVFLAGS  += -O3 -std=c++17 -I. $(CUDA_ARCH) -Xcompiler -Wall,-Wextra,-Wno-unused-parameter \
            --Werror all-warnings -MMD -MP

LIB_SRC  := $(wildcard runtime/*.c kernels/*.c nets/*.c weights_tools/*.c)
CLI_SRC  := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
BENCH_SRC:= $(wildcard bench/*.c)
CU_SRC   := $(wildcard runtime/*.cu kernels/*.cu)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/harness.o
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_OBJ:= $(BENCH_SRC:%.c=$(BUILD)/%.o)


ifneq ($(and $(NVCC),$(CU_SRC)),)
  CU_OBJ  := $(CU_SRC:%.cu=$(BUILD)/%.cu.o)
  # host emulations of CUDA kernels' block code (tests/test_cuda_emu_*.cu): built by nvcc,
  # they run without a GPU
  TEST_BIN += $(patsubst tests/%.cu,$(BUILD)/tests/%,$(wildcard tests/test_cuda_emu_*.cu))
  CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
  CFLAGS  += -DLIS_HAVE_CUDA=1
  LDLIBS  += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart -lcublas -lstdc++
  $(info lis: CUDA   yes ($(NVCC)))
else
  CU_OBJ  :=
  $(info lis: CUDA   no (nvcc not found, CUDA=0, or no .cu sources): CPU-only build)
endif

# Rebuild everything when the compiler, flags or CUDA detection change, so a CPU-only
# build never links objects made for a CUDA build (or the other way round).
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD); echo '$(CC) $(CFLAGS) $(NVCC) $(NVFLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(CC) $(CFLAGS) $(NVCC) $(NVFLAGS)' > $(FLAGS_STAMP))
$(LIB_OBJ) $(CLI_OBJ) $(TEST_OBJ) $(BENCH_OBJ) $(CU_OBJ): $(FLAGS_STAMP)

LIS_RUN ?= lis-run
# the stamp rule above is the first rule in the file: without this, a bare `make` would
# build only its first object instead of ./lis-run
.DEFAULT_GOAL := all

.PHONY: all test bench asan clean cuda-check fuzz tests-bin
all: $(LIS_RUN)

$(LIS_RUN): $(CLI_OBJ) $(BUILD)/liblis.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/liblis.a $(LDLIBS)

$(BUILD)/liblis.a: $(LIB_OBJ) $(CU_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -c $< -o $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(BUILD)/tests/harness.o $(BUILD)/liblis.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_cuda_emu_%: $(BUILD)/tests/test_cuda_emu_%.cu.o $(BUILD)/tests/harness.o $(BUILD)/liblis.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# keep the emulations' objects (make would delete them as intermediates and rebuild every time)
.PRECIOUS: $(BUILD)/tests/%.cu.o

tests-bin: $(TEST_BIN)

# The README's test command. Every test binary runs under a time limit; the
# runner prints one PASS/FAIL/SKIP line each and a closing "N passed, N failed".
test: $(LIS_RUN) $(TEST_BIN)
	@BUILD=$(BUILD) LIS_RUN=$(abspath $(LIS_RUN)) sh tests/run_all.sh $(TEST_BIN)

bench/lis-bench: $(BENCH_OBJ) $(BUILD)/cli/args.o $(BUILD)/liblis.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
bench: bench/lis-bench

# Everything under AddressSanitizer + UBSan in build-asan/ (its own lis-run there), with
# the slowest cases skipped (LIS_QUICK=1). Leaks are reported too.
asan:
	LIS_QUICK=1 $(MAKE) BUILD=build-asan CUDA=0 OPT="-O1 -march=x86-64-v3" LIS_RUN=build-asan/lis-run \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDLIBS="-lpng -lz -lm -pthread -fsanitize=address,undefined" test

# FUZZ_SECONDS per target; the script builds in build-fuzz/ and summarises execs per target
fuzz:
	sh tests/fuzz/run.sh $(or $(FUZZ_SECONDS),20)

cuda-check:
	@test -n "$(NVCC)" || (echo "nvcc not found" && exit 1)
	$(MAKE) CUDA=1 $(CU_OBJ)

clean:
	rm -rf build build-asan build-fuzz lis-run bench/lis-bench

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
