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

extern "C" {
#include "tests/harness.h"
}

using namespace lis_g16;

static float As[BM * LDA], Bs[BK * LDB];

// ldmatrix.sync.aligned.m8n8.x4[.trans].b16: matrix j's row r starts at the address lane 8j + r
// gives (8 consecutive elements). Without .trans, lane l receives in register j the elements
// (row l/4, columns 2(l%4), 2(l%4)+1) of matrix j; with .trans, (rows 2(l%4), 2(l%4)+1, column l/4).
static void ldmatrix_x4(const float *sm, const int addr[32], bool trans, float reg[32][4][2]) {
    for (int j = 0; j < 4; j++)
        for (int lane = 0; lane < 32; lane++) {
            const int g = lane >> 2, t = lane & 3;
            for (int e = 0; e < 2; e++) {
                const int row = trans ? 2 * t + e : g, col = trans ? g : 2 * t + e;
                reg[lane][j][e] = sm[addr[8 * j + row] + col];
            }
        }
}

// mma.sync.aligned.m16n8k16.row.col: A 16x16 from a0..a3 of lane (g, t) = (row g, depth 2t+e),
// (row g+8, 2t+e), (row g, 2t+8+e), (row g+8, 2t+8+e); B 16x8 from b0, b1 = (depth 2t+e,
// column g), (depth 2t+8+e, column g); D: d0, d1 = (row g, columns 2t, 2t+1), d2, d3 row g+8
static void mma16(const float a[32][4][2], const float b[32][2][2], float d[32][4]) {
    float A[16][16], B[16][8];
    for (int lane = 0; lane < 32; lane++) {
        const int g = lane >> 2, t = lane & 3;
        for (int e = 0; e < 2; e++) {
            A[g][2 * t + e] = a[lane][0][e];
            A[g + 8][2 * t + e] = a[lane][1][e];
            A[g][2 * t + 8 + e] = a[lane][2][e];
            A[g + 8][2 * t + 8 + e] = a[lane][3][e];
            B[2 * t + e][g] = b[lane][0][e];
            B[2 * t + 8 + e][g] = b[lane][1][e];
        }
    }
    for (int lane = 0; lane < 32; lane++) {
        const int g = lane >> 2, t = lane & 3;
        for (int r = 0; r < 4; r++) {
            const int m = g + (r >> 1) * 8, n = 2 * t + (r & 1);
            for (int k = 0; k < 16; k++) d[lane][r] += A[m][k] * B[k][n];
        }
    }
}

// 16-byte bank groups of one 8-lane phase: distinct when the 8 addresses are conflict-free
static bool phase_conflict_free(const int addr[32], int phase) {
    unsigned seen = 0;
    for (int l = 8 * phase; l < 8 * phase + 8; l++) {
        const unsigned grp = (unsigned)(addr[l] * 2 / 16) % 8; // 2-byte elements, 128-byte rows of banks
        if (seen & (1u << grp)) return false;
        seen |= 1u << grp;
    }
    return true;
}

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
                for (int ph = 0; ph < 4; ph++) banks_ok = banks_ok && phase_conflict_free(addr, ph);
                ldmatrix_x4(As, addr, false, a[i]);
            }
            for (int jj = 0; jj < 2; jj++) {
                for (int lane = 0; lane < 32; lane++) addr[lane] = b_ldm_offset(wn, jj, kk, lane);
                for (int ph = 0; ph < 4; ph++) banks_ok = banks_ok && phase_conflict_free(addr, ph);
                ldmatrix_x4(Bs, addr, true, r);
                for (int lane = 0; lane < 32; lane++)
                    for (int e = 0; e < 2; e++) { // the kernel's order: r0, r1 -> tile 2jj; r2, r3 -> 2jj+1
                        b[2 * jj][lane][0][e] = r[lane][0][e];
                        b[2 * jj][lane][1][e] = r[lane][1][e];
                        b[2 * jj + 1][lane][0][e] = r[lane][2][e];
                        b[2 * jj + 1][lane][1][e] = r[lane][3][e];
                    }
            }
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) mma16(a[i], b[j], acc[i][j]);
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
