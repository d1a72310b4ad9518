#ifndef BURNRATE_CGSL_SHIM_H
#define BURNRATE_CGSL_SHIM_H

#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_sort_double.h>
#include <gsl/gsl_histogram.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>

// GSL declares its generator types as mutable C globals (`gsl_rng_taus2`, …). Swift 6 refuses to
// read such globals because nothing proves they are not written concurrently; GSL never writes
// them after load, so these accessors return the (constant) pointer through a function call.
static inline const gsl_rng_type *burnrate_rng_taus2(void) { return gsl_rng_taus2; }
static inline const gsl_rng_type *burnrate_rng_mt19937(void) { return gsl_rng_mt19937; }
static inline const gsl_rng_type *burnrate_rng_ranlxd2(void) { return gsl_rng_ranlxd2; }
static inline const gsl_rng_type *burnrate_rng_gfsr4(void) { return gsl_rng_gfsr4; }

#endif
