#ifndef BURNRATE_CCRYPTO_SHIM_H
#define BURNRATE_CCRYPTO_SHIM_H

// The system's OpenSSL libcrypto (libssl-dev), for the service's API keys: SHA-256 of a secret
// and a constant-time comparison of two digests. Used instead of swift-crypto, whose vendored
// BoringSSL is compiled from source on Linux on every clean build.
#include <openssl/sha.h>
#include <openssl/crypto.h>

#endif
