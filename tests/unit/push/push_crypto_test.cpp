// The crypto building blocks of the push plugins against published test vectors.
#include <catch2/catch.hpp>
#include <string>

#include "push_crypto.h"
#include "webpush_message.h"

namespace push = homeroom::push;

namespace {
std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}
std::string b64(const std::string& s) { return push::base64url_decode(s).value(); }
}  // namespace

TEST_CASE("base64url round-trips and rejects garbage", "[push][crypto]") {
  CHECK(push::base64url_encode("") == "");
  CHECK(push::base64url_encode("f") == "Zg");
  CHECK(push::base64url_encode("fo") == "Zm8");
  CHECK(push::base64url_encode("foo") == "Zm9v");
  CHECK(push::base64url_encode("\xfb\xff") == "-_8");
  CHECK(push::base64url_decode("-_8").value() == "\xfb\xff");
  CHECK(push::base64url_decode("Zm8=").value() == "fo");
  CHECK_FALSE(push::base64url_decode("Zm9v!").has_value());
  CHECK_FALSE(push::base64url_decode("Z").has_value());
}

TEST_CASE("HKDF-SHA256 matches RFC 5869 test case 1", "[push][crypto]") {
  const std::string okm = push::hkdf_sha256(unhex("000102030405060708090a0b0c"),
                                            unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                                            unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  CHECK(okm == unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b8"
                     "87185865"));
}

TEST_CASE("aes128gcm encryption matches RFC 8291 appendix A", "[push][crypto]") {
  push::Subscription sub;
  sub.endpoint = "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV";
  sub.p256dh = b64(
      "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
  sub.auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
  const push::Pkey as_key =
      push::p256_private_from_scalar(b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"));
  const std::string body = push::encrypt_aes128gcm(sub, "When I grow up, I want to be a watermelon",
                                                   as_key.get(), b64("DGv6ra1nlYgDCS1FRnbzlw"));
  CHECK(
      push::base64url_encode(body) ==
      "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAm"
      "S6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_"
      "Qulcy4a-fN");
}

TEST_CASE("P-256 keys: scalar round trip, bad points refused", "[push][crypto]") {
  const push::Pkey key = push::p256_generate();
  const std::string scalar = push::p256_private_scalar(key.get());
  const push::Pkey again = push::p256_private_from_scalar(scalar);
  CHECK(push::p256_public_point(again.get()) == push::p256_public_point(key.get()));
  std::string off_curve = push::p256_public_point(key.get());
  off_curve[40] = static_cast<char>(off_curve[40] ^ 1);
  CHECK_THROWS_AS(push::p256_public_from_point(off_curve), push::CryptoError);
  CHECK_THROWS_AS(push::p256_private_from_scalar(std::string(32, '\0')), push::CryptoError);
  CHECK(push::es256_sign(key.get(), "data").size() == 64);
}

TEST_CASE("url_origin keeps scheme, host and port only", "[push][crypto]") {
  CHECK(push::url_origin("https://fcm.googleapis.com/fcm/send/abc") ==
        "https://fcm.googleapis.com");
  CHECK(push::url_origin("https://Push.Example.net:8443/p?x=1") == "https://push.example.net:8443");
  CHECK(push::url_origin("http://127.0.0.1:9/x") == "http://127.0.0.1:9");
  CHECK(push::url_origin("https://push.example.net:443/x") == "https://push.example.net");
  CHECK(push::url_origin("ftp://x/y").empty());
  CHECK(push::url_origin("https://user@host/").empty());
}
