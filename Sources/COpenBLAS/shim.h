#ifndef SEMBLANCE_COPENBLAS_SHIM_H
#define SEMBLANCE_COPENBLAS_SHIM_H

// CBLAS from OpenBLAS (also declares openblas_set_num_threads and friends).
#include <cblas.h>
#include <stddef.h>

// LAPACK routines Semblance calls, as the Fortran symbols that libopenblas exports.
// gfortran passes the length of every CHARACTER argument as a hidden trailing size_t,
// so those are declared explicitly.

void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau,
             float *work, const int *lwork, int *info);

void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda,
             const float *tau, float *work, const int *lwork, int *info);

void sgelqf_(const int *m, const int *n, float *a, const int *lda, float *tau,
             float *work, const int *lwork, int *info);

void sorglq_(const int *m, const int *n, const int *k, float *a, const int *lda,
             const float *tau, float *work, const int *lwork, int *info);

void sgetrf_(const int *m, const int *n, float *a, const int *lda, int *ipiv, int *info);

void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info,
             size_t uplo_len);

void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda,
             float *s, float *u, const int *ldu, float *vt, const int *ldvt,
             float *work, const int *lwork, int *iwork, int *info, size_t jobz_len);

void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork,
             int *info, size_t jobz_len, size_t uplo_len);

#endif
