#include "webpush_message.h"

#include <nlohmann/json.hpp>

#include "push_crypto.h"

namespace homeroom::push {

std::optional<Subscription> parse_subscription(std::string_view to, std::string& why) {
  const auto doc = nlohmann::json::parse(to, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    why = "push contact is not a JSON object";
    return std::nullopt;
  }
  if (doc.contains("fcm_token") && !doc.contains("endpoint")) {
    why = "not a Web Push subscription (an FCM token: deliver it with push_fcm)";
    return std::nullopt;
  }
  const auto endpoint = doc.find("endpoint");
  const auto keys = doc.find("keys");
  if (endpoint == doc.end() || !endpoint->is_string() || keys == doc.end() || !keys->is_object() ||
      !keys->contains("p256dh") || !keys->contains("auth") || !(*keys)["p256dh"].is_string() ||
      !(*keys)["auth"].is_string()) {
    why = "malformed Web Push subscription: needs endpoint and keys.p256dh, keys.auth";
    return std::nullopt;
  }
  Subscription sub;
  sub.endpoint = endpoint->get<std::string>();
  const std::string origin = url_origin(sub.endpoint);
  if (origin.empty()) {
    why = "malformed Web Push subscription: endpoint is not an https URL";
    return std::nullopt;
  }
  if (origin.rfind("http://", 0) == 0) {
    // Plain http only to this machine (loopback fakes); a real push service is always https.
    const bool loopback = origin.rfind("http://127.0.0.1", 0) == 0 ||
                          origin.rfind("http://localhost", 0) == 0 ||
                          origin.rfind("http://[::1]", 0) == 0;
    if (!loopback) {
      why = "malformed Web Push subscription: endpoint is not an https URL";
      return std::nullopt;
    }
  }
  auto p256dh = base64url_decode((*keys)["p256dh"].get<std::string>());
  if (!p256dh || p256dh->size() != 65 || (*p256dh)[0] != '\x04') {
    why = "malformed Web Push subscription: keys.p256dh is not a base64url P-256 point";
    return std::nullopt;
  }
  try {
    (void)p256_public_from_point(*p256dh);
  } catch (const CryptoError&) {
    why = "malformed Web Push subscription: keys.p256dh is not a point on P-256";
    return std::nullopt;
  }
  auto auth = base64url_decode((*keys)["auth"].get<std::string>());
  if (!auth || auth->size() != 16) {
    why = "malformed Web Push subscription: keys.auth is not a base64url 16-byte secret";
    return std::nullopt;
  }
  sub.p256dh = std::move(*p256dh);
  sub.auth = std::move(*auth);
  return sub;
}

std::string url_origin(std::string_view url) {
  std::size_t scheme_end = 0;
  if (url.rfind("https://", 0) == 0) {
    scheme_end = 8;
  } else if (url.rfind("http://", 0) == 0) {
    scheme_end = 7;
  } else {
    return {};
  }
  const std::size_t authority_end = url.find_first_of("/?#", scheme_end);
  std::string_view authority =
      url.substr(scheme_end, authority_end == std::string_view::npos ? std::string_view::npos
                                                                     : authority_end - scheme_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return {};
  for (char c : authority) {
    if (c == ' ' || c == '\\' || static_cast<unsigned char>(c) < 0x21) return {};
  }
  std::string origin(url.substr(0, scheme_end));
  for (char c : authority) {
    origin += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  // An origin (RFC 6454) leaves out the scheme's default port; push services compare it so.
  const std::string_view default_port = scheme_end == 8 ? ":443" : ":80";
  if (origin.size() > default_port.size() + scheme_end &&
      std::string_view(origin).substr(origin.size() - default_port.size()) == default_port) {
    origin.resize(origin.size() - default_port.size());
  }
  return origin;
}

std::string encrypt_aes128gcm(const Subscription& sub, std::string_view plaintext,
                              EVP_PKEY* ephemeral, std::string_view salt16) {
  if (salt16.size() != 16) throw CryptoError("salt must be 16 bytes");
  const Pkey ua_public = p256_public_from_point(sub.p256dh);
  const std::string as_public = p256_public_point(ephemeral);
  const std::string shared = ecdh(ephemeral, ua_public.get());
  // RFC 8291 section 3.4.
  std::string key_info("WebPush: info", 13);
  key_info += '\0';
  key_info += sub.p256dh;
  key_info += as_public;
  const std::string ikm = hkdf_sha256(sub.auth, shared, key_info, 32);
  const std::string cek =
      hkdf_sha256(salt16, ikm, std::string_view("Content-Encoding: aes128gcm\0", 28), 16);
  const std::string nonce =
      hkdf_sha256(salt16, ikm, std::string_view("Content-Encoding: nonce\0", 24), 12);
  std::string record(plaintext);
  record += '\x02';  // padding delimiter of the last (only) record, no padding
  std::string body(salt16);
  body += std::string_view("\x00\x00\x10\x00", 4);  // rs = 4096
  body += static_cast<char>(65);
  body += as_public;
  body += aes128gcm_seal(cek, nonce, record);
  return body;
}

std::string vapid_authorization(std::string_view audience, std::int64_t exp,
                                std::string_view subject, EVP_PKEY* vapid_key,
                                std::string_view public_key_b64url) {
  const nlohmann::json header = {{"typ", "JWT"}, {"alg", "ES256"}};
  const nlohmann::json claims = {{"aud", audience}, {"exp", exp}, {"sub", subject}};
  const std::string jwt = jwt_sign("ES256", header.dump(), claims.dump(), vapid_key);
  return "vapid t=" + jwt + ", k=" + std::string(public_key_b64url);
}

}  // namespace homeroom::push
