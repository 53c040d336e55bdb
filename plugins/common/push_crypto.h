// Crypto building blocks shared by the push plugins (push_webpush, push_fcm), on OpenSSL 3 EVP
// APIs.
//
// Byte strings are std::string (binary-safe). Every function that can fail on bad input or an
// OpenSSL error throws CryptoError; the plugins catch it at the ABI boundary (plugin::guard), so no
// exception crosses into the host. Functions are thread-safe (no shared state beyond OpenSSL's).
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace homeroom::push {

class CryptoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// RFC 4648 section 5, without padding.
std::string base64url_encode(std::string_view bytes);
// Accepts base64url with or without '=' padding (and, leniently, '+' and '/'); nullopt if
// malformed.
std::optional<std::string> base64url_decode(std::string_view text);

std::string random_bytes(std::size_t n);

// P-256 keys. Points are uncompressed (65 bytes, 0x04 || X || Y); scalars are 32 bytes.
Pkey p256_generate();
Pkey p256_private_from_scalar(std::string_view scalar32);  // derives the public point
Pkey p256_public_from_point(std::string_view point65);
std::string p256_public_point(EVP_PKEY* key);
std::string p256_private_scalar(EVP_PKEY* key);  // 32 bytes (tests and key tooling)
// ECDH shared secret (the X coordinate, 32 bytes).
std::string ecdh(EVP_PKEY* private_key, EVP_PKEY* peer_public);

// A private key from PEM (PKCS#8 or traditional). Throws when unreadable.
Pkey private_key_from_pem(std::string_view pem);
bool is_rsa(EVP_PKEY* key);

// ES256 signature as raw r || s (64 bytes), as JWS wants; RS256 as PKCS#1 v1.5 over SHA-256.
std::string es256_sign(EVP_PKEY* p256_key, std::string_view data);
std::string rs256_sign(EVP_PKEY* rsa_key, std::string_view data);

// A compact JWS: b64url(header) "." b64url(claims) "." b64url(signature); alg is "ES256" or
// "RS256" (and must match the key). header_json and claims_json are serialized JSON objects.
std::string jwt_sign(std::string_view alg, std::string_view header_json,
                     std::string_view claims_json, EVP_PKEY* key);

// RFC 5869 HKDF-SHA256 (extract and expand).
std::string hkdf_sha256(std::string_view salt, std::string_view ikm, std::string_view info,
                        std::size_t length);

// AES-128-GCM: ciphertext || 16-byte tag.
std::string aes128gcm_seal(std::string_view key16, std::string_view nonce12,
                           std::string_view plaintext);

}  // namespace homeroom::push
