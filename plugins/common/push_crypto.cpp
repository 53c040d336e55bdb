#include "push_crypto.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <cstdint>

namespace homeroom::push {
namespace {

// The message of OpenSSL's most recent error, prefixed by what we were doing; clears the queue.
[[noreturn]] void fail(const std::string& what) {
  std::string detail;
  if (const unsigned long code = ERR_get_error(); code != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    detail = std::string(": ") + buf.data();
  }
  ERR_clear_error();
  throw CryptoError(what + detail);
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using EcGroup = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP, EC_GROUP_free>>;
using EcPoint = std::unique_ptr<EC_POINT, Deleter<EC_POINT, EC_POINT_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Kdf = std::unique_ptr<EVP_KDF, Deleter<EVP_KDF, EVP_KDF_free>>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, Deleter<EVP_KDF_CTX, EVP_KDF_CTX_free>>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int int_len(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) throw CryptoError("input too large");
  return static_cast<int>(n);
}

constexpr char kGroup[] = "prime256v1";

Pkey pkey_from_params(OSSL_PARAM_BLD* bld, int selection, const char* what) {
  Params params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) fail(what);
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) <= 0) {
    fail(what);
  }
  return Pkey(key);
}

// Checks the point lies on P-256 (EVP_PKEY_fromdata alone does not).
void check_on_curve(std::string_view point65, const char* what) {
  EcGroup group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  EcPoint point(group ? EC_POINT_new(group.get()) : nullptr);
  if (!point ||
      EC_POINT_oct2point(group.get(), point.get(), bytes(point65), point65.size(), nullptr) != 1) {
    fail(what);
  }
}

}  // namespace

std::string base64url_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8) |
        static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = 0;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), int_len(n)) != 1) {
    fail("RAND_bytes");
  }
  return out;
}

Pkey p256_generate() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) fail("P-256 key generation");
  return key;
}

Pkey p256_private_from_scalar(std::string_view scalar32) {
  if (scalar32.size() != 32) throw CryptoError("a P-256 private key is 32 bytes");
  Bignum priv(BN_bin2bn(bytes(scalar32), 32, nullptr));
  EcGroup group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  if (!priv || !group) fail("P-256 private key");
  if (BN_is_zero(priv.get()) || BN_cmp(priv.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    throw CryptoError("the P-256 private key is out of range");
  }
  EcPoint pub(EC_POINT_new(group.get()));
  std::array<unsigned char, 65> point{};
  if (!pub || EC_POINT_mul(group.get(), pub.get(), priv.get(), nullptr, nullptr, nullptr) != 1 ||
      EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                         point.size(), nullptr) != point.size()) {
    fail("P-256 public point");
  }
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    fail("P-256 private key");
  }
  return pkey_from_params(bld.get(), EVP_PKEY_KEYPAIR, "P-256 private key");
}

Pkey p256_public_from_point(std::string_view point65) {
  if (point65.size() != 65 || point65[0] != '\x04') {
    throw CryptoError("a P-256 public key is a 65-byte uncompressed point");
  }
  check_on_curve(point65, "the P-256 public key is not a point on the curve");
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point65.data(),
                                       point65.size()) != 1) {
    fail("P-256 public key");
  }
  return pkey_from_params(bld.get(), EVP_PKEY_PUBLIC_KEY, "P-256 public key");
}

std::string p256_public_point(EVP_PKEY* key) {
  std::string out(65, '\0');
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                      reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                      &len) != 1 ||
      len != 65) {
    fail("P-256 public point");
  }
  return out;
}

std::string p256_private_scalar(EVP_PKEY* key) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) fail("P-256 private key");
  Bignum priv(raw);
  std::string out(32, '\0');
  if (BN_bn2binpad(priv.get(), reinterpret_cast<unsigned char*>(out.data()), 32) != 32) {
    fail("P-256 private key");
  }
  return out;
}

std::string ecdh(EVP_PKEY* private_key, EVP_PKEY* peer_public) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, private_key, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer_public) <= 0 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) <= 0) {
    fail("ECDH");
  }
  std::string secret(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &len) <= 0) {
    fail("ECDH");
  }
  secret.resize(len);
  return secret;
}

Pkey private_key_from_pem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), int_len(pem.size())));
  if (!bio) fail("PEM");
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) fail("not a PEM private key");
  return key;
}

bool is_rsa(EVP_PKEY* key) { return EVP_PKEY_is_a(key, "RSA") == 1; }

namespace {

std::string digest_sign_sha256(EVP_PKEY* key, std::string_view data, const char* what) {
  MdCtx ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes(data), data.size()) != 1) {
    fail(what);
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(data),
                     data.size()) != 1) {
    fail(what);
  }
  sig.resize(len);
  return sig;
}

}  // namespace

std::string es256_sign(EVP_PKEY* p256_key, std::string_view data) {
  const std::string der = digest_sign_sha256(p256_key, data, "ES256 signature");
  const unsigned char* p = bytes(der);
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) fail("ES256 signature (DER)");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, 32) != 32 || BN_bn2binpad(s, out + 32, 32) != 32) {
    fail("ES256 signature (r||s)");
  }
  return raw;
}

std::string rs256_sign(EVP_PKEY* rsa_key, std::string_view data) {
  return digest_sign_sha256(rsa_key, data, "RS256 signature");
}

std::string jwt_sign(std::string_view alg, std::string_view header_json,
                     std::string_view claims_json, EVP_PKEY* key) {
  const std::string input = base64url_encode(header_json) + "." + base64url_encode(claims_json);
  std::string signature;
  if (alg == "ES256") {
    signature = es256_sign(key, input);
  } else if (alg == "RS256") {
    signature = rs256_sign(key, input);
  } else {
    throw CryptoError("unsupported JWT alg " + std::string(alg));
  }
  return input + "." + base64url_encode(signature);
}

std::string hkdf_sha256(std::string_view salt, std::string_view ikm, std::string_view info,
                        std::size_t length) {
  Kdf kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  KdfCtx ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  if (!ctx) fail("HKDF");
  char digest[] = "SHA256";
  // OSSL_PARAM takes non-const pointers; the KDF only reads them.
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()),
                                        ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end(),
  };
  std::string out(length, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), length, params) !=
      1) {
    fail("HKDF");
  }
  return out;
}

std::string aes128gcm_seal(std::string_view key16, std::string_view nonce12,
                           std::string_view plaintext) {
  if (key16.size() != 16 || nonce12.size() != 12) throw CryptoError("AES-128-GCM key/nonce size");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(plaintext.size() + 16, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int fin = 0;
  if (!ctx ||
      EVP_EncryptInit_ex2(ctx.get(), EVP_aes_128_gcm(), bytes(key16), bytes(nonce12), nullptr) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), o, &len, bytes(plaintext), int_len(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, o + plaintext.size()) != 1) {
    fail("AES-128-GCM");
  }
  return out;
}

}  // namespace homeroom::push
