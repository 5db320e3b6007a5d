/* linalg.h — small dense float64 linear algebra for fitting the linking network
 * (nets/link.c): Gram products of centred float32 data, Cholesky, and a symmetric
 * eigendecomposition that is applied to right-hand sides without forming eigenvectors.
 *
 * All matrices are row-major float64 with a leading dimension (row stride, in elements).
 *
 * Gram:   G = Xc^T Xc and C = Xc^T Yc with Xc = X - 1 xm^T, Yc = Y - 1 ym^T, centred and
 *         accumulated in float64 (float32 inputs are exact in float64; the only rounding is
 *         in the sums). _ref: plain loops (oracle). _cpu: rows in blocks of 256, centred and
 *         packed into 6- and 8-column panels, 6x8 AVX2/FMA micro-kernel, threads over tiles,
 *         only the upper triangle of G computed then mirrored.
 * Cholesky: A = L L^T, row-oriented (dot products of contiguous rows) in block columns of 64,
 *         the rows below each diagonal block in parallel; then a multi-RHS solve threaded over
 *         32-column panels. Used by ridge (sklearn's 'cholesky' solver).
 * Eigen:  A = V diag(eval) V^T for symmetric A, as LAPACK dsyev does it: Householder
 *         tridiagonalisation A = Q T Q^T (lower triangle, the symmetric rank-2 update of
 *         step k fused with the matrix-vector product of step k+1, threaded), then implicit
 *         QL with Wilkinson shifts on T (EISPACK tql2 / Numerical Recipes tqli), recording
 *         every plane rotation instead of accumulating them (about n^2 rotations, 16 bytes
 *         each: 64 MiB for n = 2048). V = Q U is then applied to a block of right-hand sides
 *         (V^T C, V C) at O(n^2 k) cost, on packed 32-column panels threaded over the panels;
 *         lis_symeig_vectors() forms V explicitly when it is wanted.
 *         Used by OLS: the minimum-norm least-squares solution is V diag(1/eval, truncated) V^T C.
 */
#ifndef LIS_LINALG_H
#define LIS_LINALG_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/status.h"

/* G[p,p] = Xc^T Xc (full, symmetric), C[p,q] = Xc^T Yc.
 * X: [n, p] float32 row stride ldx; xm: [p] column means (or any shift); Y: [n, q] row
 * stride ldy, ym: [q] (q may be 0 with Y, ym, C NULL). */
void lis_gram_centered_ref(int64_t n, int p, int q, const float *X, int64_t ldx, const double *xm, const float *Y,
                           int64_t ldy, const double *ym, double *G, double *C);
lis_status lis_gram_centered_cpu(int64_t n, int p, int q, const float *X, int64_t ldx, const double *xm,
                                 const float *Y, int64_t ldy, const double *ym, double *G, double *C);

/* In-place Cholesky of the lower triangle of A [n, n] (upper part untouched).
 * Returns 0, or i+1 when the leading minor of order i+1 is not positive definite or is
 * numerically singular (pivot <= n eps A_ii). */
int lis_chol_factor(int n, double *A, int64_t lda);
/* Solves (L L^T) X = B in place for B [n, k] (row stride ldb), L from lis_chol_factor. */
lis_status lis_chol_solve(int n, const double *L, int64_t lda, double *B, int k, int64_t ldb);

/* One QL sweep's rotations: rotation r acts on indices (i0 - r, i0 - r + 1). */
typedef struct {
    int32_t i0, count;
    int64_t off;        /* into rc/rs */
} lis_symeig_sweep;

typedef struct {
    int n;
    double *eval;       /* [n] eigenvalues in no particular order; eval[j] <-> column j of V */
    double *hv;         /* [n, n] row k: Householder vector v_k on columns k+1..n-1 (v_k[k+1] = 1) */
    double *tau;        /* [n] Householder scalars (H_k = I - tau_k v_k v_k^T) */
    lis_symeig_sweep *sweeps;
    int64_t nsweep, capsweep;
    double *rc, *rs;    /* [nrot] rotation cosines and sines, in the order QL applied them */
    int64_t nrot, caprot;
} lis_symeig;

/* Decomposes symmetric A [n, n] (only the lower triangle is read; A is overwritten). */
lis_status lis_symeig_compute(lis_symeig *e, int n, double *A, int64_t lda);
/* C [n, k] := V^T C and C := V C. */
lis_status lis_symeig_apply_vt(const lis_symeig *e, double *C, int k, int64_t ldc);
lis_status lis_symeig_apply_v(const lis_symeig *e, double *C, int k, int64_t ldc);
/* V [n, n] with column j the unit eigenvector of eval[j]. */
lis_status lis_symeig_vectors(const lis_symeig *e, double *V, int64_t ldv);
void lis_symeig_free(lis_symeig *e);

#endif
