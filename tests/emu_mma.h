// emu_mma.h — the warp-level tensor-core instructions as the PTX ISA defines them, on the host,
// for the emulation tests of the mma kernels (tests/test_cuda_emu_gemm16.cu, _conv_nhwc.cu): a
// warp's ldmatrix .x4 (with and without .trans) on 16-bit elements and on 32-bit ones (pairs),
// mma.m16n8k16 (bf16 / fp16) and mma.m16n8k8 (tf32) .row.col, values as floats, and the
// bank-conflict test of an ldmatrix phase. 16-bit registers are indexed [lane][reg][half],
// 32-bit ones [lane][reg].
#ifndef LIS_TESTS_EMU_MMA_H
#define LIS_TESTS_EMU_MMA_H

#include <stdbool.h>

// ldmatrix.sync.aligned.m8n8.x4[.trans].b16: matrix j's row r starts at the address lane 8j + r
// gives (8 consecutive elements). Without .trans, lane l receives in register j the elements
// (row l/4, columns 2(l%4), 2(l%4)+1) of matrix j; with .trans, (rows 2(l%4), 2(l%4)+1, column l/4).
static inline void emu_ldmatrix_x4(const float *sm, const int addr[32], bool trans, float reg[32][4][2]) {
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
static inline void emu_mma16(const float a[32][4][2], const float b[32][2][2], float d[32][4]) {
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
static inline bool emu_phase_conflict_free(const int addr[32], int phase, int esize = 2) {
    unsigned seen = 0;
    for (int l = 8 * phase; l < 8 * phase + 8; l++) {
        const unsigned grp = (unsigned)(addr[l] * esize / 16) % 8; // esize-byte elements, 128-byte rows of banks
        if (seen & (1u << grp)) return false;
        seen |= 1u << grp;
    }
    return true;
}

// the kernels' ldmatrix_b_pair: registers r0, r1 of one x4 load -> b0, b1 of n8 tile 2jj, r2, r3
// -> those of tile 2jj + 1 (b indexed [tile][lane][reg][half])
static inline void emu_b_pair(const float r[32][4][2], int jj, float b[][32][2][2]) {
    for (int lane = 0; lane < 32; lane++)
        for (int e = 0; e < 2; e++) {
            b[2 * jj][lane][0][e] = r[lane][0][e];
            b[2 * jj][lane][1][e] = r[lane][1][e];
            b[2 * jj + 1][lane][0][e] = r[lane][2][e];
            b[2 * jj + 1][lane][1][e] = r[lane][3][e];
        }
}

// ldmatrix .x4 (no .trans) on 32-bit elements: an 8x8 matrix of 16-bit values is 8 rows of 4
// elements, and lane l receives in register j the pair (row l/4, 16-bit columns 2(l%4), 2(l%4)+1)
// of matrix j, i.e. element (row l/4, column l%4); addr in elements
static inline void emu_ldmatrix_x4_b32(const float *sm, const int addr[32], float reg[32][4]) {
    for (int j = 0; j < 4; j++)
        for (int lane = 0; lane < 32; lane++) reg[lane][j] = sm[addr[8 * j + (lane >> 2)] + (lane & 3)];
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32: A 16x8 from a0..a3 of lane (g, t) = (row g,
// depth t), (g+8, t), (g, t+4), (g+8, t+4); B 8x8 from b0, b1 = (depth t, column g), (t+4, g);
// D as m16n8k16
static inline void emu_mma_tf32(const float a[32][4], const float b[32][2], float d[32][4]) {
    float A[16][8], B[8][8];
    for (int lane = 0; lane < 32; lane++) {
        const int g = lane >> 2, t = lane & 3;
        A[g][t] = a[lane][0];
        A[g + 8][t] = a[lane][1];
        A[g][t + 4] = a[lane][2];
        A[g + 8][t + 4] = a[lane][3];
        B[t][g] = b[lane][0];
        B[t + 4][g] = b[lane][1];
    }
    for (int lane = 0; lane < 32; lane++) {
        const int g = lane >> 2, t = lane & 3;
        for (int r = 0; r < 4; r++) {
            const int m = g + (r >> 1) * 8, n = 2 * t + (r & 1);
            for (int k = 0; k < 8; k++) d[lane][r] += A[m][k] * B[k][n];
        }
    }
}

// emu_b_pair for 32-bit registers (b indexed [tile][lane][reg])
static inline void emu_b_pair_b32(const float r[32][4], int jj, float b[][32][2]) {
    for (int lane = 0; lane < 32; lane++) {
        b[2 * jj][lane][0] = r[lane][0];
        b[2 * jj][lane][1] = r[lane][1];
        b[2 * jj + 1][lane][0] = r[lane][2];
        b[2 * jj + 1][lane][1] = r[lane][3];
    }
}

#endif
