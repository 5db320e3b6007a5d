// test_cuda_emu_gemm16.cu — one shared-memory stage of the 16-bit GEMM kernel
// (kernels/gemm_mma16.cu) replayed on the host: every warp's ldmatrix loads at the lane
// addresses of kernels/gemm_mma16_frag.cuh, emulated as the PTX ISA defines ldmatrix (.x4 and
// .x4.trans) and mma.m16n8k16 (.row.col fragment layouts), then the accumulators placed where
// the kernel's epilogue stores them. The result must be the tile product exactly (small
// integers), every output of the block written once; and each 8-lane ldmatrix phase must hit
// 8 distinct 16-byte bank groups (the point of the row padding). Built by nvcc, runs without a
// GPU.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/gemm_mma16_frag.cuh"
#include "tests/emu_mma.h"

extern "C" {
#include "tests/harness.h"
}

using namespace lis_g16;

static float As[BM * LDA], Bs[BK * LDB];

int main(void) {
    unsigned seed = 7;
    for (int i = 0; i < BM * LDA; i++) {
        seed = seed * 1664525u + 1013904223u;
        As[i] = (float)((int)(seed >> 28) - 8); // -8 .. 7: the sums stay exact
    }
    for (int i = 0; i < BK * LDB; i++) {
        seed = seed * 1664525u + 1013904223u;
        Bs[i] = (float)((int)(seed >> 28) - 8);
    }
    static float out[BM][BN];
    static int hits[BM][BN];
    memset(hits, 0, sizeof hits);
    bool banks_ok = true;
    for (int warp = 0; warp < 8; warp++) {
        const int wm = warp >> 2, wn = warp & 3;
        static float acc[4][4][32][4];
        memset(acc, 0, sizeof acc);
        for (int kk = 0; kk < BK; kk += 16) {
            static float a[4][32][4][2], b[4][32][2][2], r[32][4][2];
            int addr[32];
            for (int i = 0; i < 4; i++) {
                for (int lane = 0; lane < 32; lane++) addr[lane] = a_ldm_offset(wm, i, kk, lane);
                for (int ph = 0; ph < 4; ph++) banks_ok = banks_ok && emu_phase_conflict_free(addr, ph);
                emu_ldmatrix_x4(As, addr, false, a[i]);
            }
            for (int jj = 0; jj < 2; jj++) {
                for (int lane = 0; lane < 32; lane++) addr[lane] = b_ldm_offset(wn, jj, kk, lane);
                for (int ph = 0; ph < 4; ph++) banks_ok = banks_ok && emu_phase_conflict_free(addr, ph);
                emu_ldmatrix_x4(Bs, addr, true, r);
                emu_b_pair(r, jj, b);
            }
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) emu_mma16(a[i], b[j], acc[i][j]);
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                for (int lane = 0; lane < 32; lane++)
                    for (int q = 0; q < 4; q++) {
                        const int m = c_row(wm, i, lane, q), n = c_col(wn, j, lane, q);
                        out[m][n] = acc[i][j][lane][q];
                        hits[m][n]++;
                    }
    }
    int wrong = 0, missed = 0;
    for (int m = 0; m < BM; m++)
        for (int n = 0; n < BN; n++) {
            float ref = 0;
            for (int k = 0; k < BK; k++) ref += As[m * LDA + k] * Bs[k * LDB + n];
            if (hits[m][n] != 1) missed++;
            else if (out[m][n] != ref) wrong++;
        }
    lis_check(missed == 0, "gemm16 emu: every output of the 128x128 block written once (%d not)", missed);
    lis_check(wrong == 0, "gemm16 emu: warp fragments (ldmatrix x4 / x4.trans, mma m16n8k16) give the tile product "
                          "(%d of %d wrong)", wrong, BM * BN);
    lis_check(banks_ok, "gemm16 emu: every ldmatrix phase hits 8 distinct 16-byte bank groups");
    return lis_test_finish();
}
