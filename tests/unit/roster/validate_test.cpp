#include <catch2/catch.hpp>

#include "roster/validate.h"

using namespace homeroom;

TEST_CASE("validate_email") {
  for (const char* ok :
       {"maya.parent@example.org", "a@b.co", "first+tag@sub.example.co.uk", "o'neil@example.com",
        "x_y-z@ex-ample.org", "jos\xc3\xa9@exempl\xc3\xa9.fr"}) {
    INFO(ok);
    CHECK(validate_email("email", ok).is_ok());
  }
  for (const char* bad : {"", "plain", "@example.org", "a@", "a@b", "a@@b.org", "a@b@c.org",
                          ".a@b.org", "a.@b.org", "a..b@c.org", "a b@c.org", "a@-b.org", "a@b-.org",
                          "a@b..org", "a@1.2.3.4", "a@b.org.", "a\xff@b.org", "<a@b.org>"}) {
    INFO(bad);
    CHECK_FALSE(validate_email("email", bad).is_ok());
  }
  const auto status = validate_email("guardians[0].email", "nope");
  CHECK(status.code() == Code::kInvalidArgument);
  CHECK(status.field() == "guardians[0].email");
  CHECK(status.message() == "must be an email address like name@example.org");
  CHECK(validate_email("e", std::string(64, 'a') + "@example.org").is_ok());
  CHECK_FALSE(validate_email("e", std::string(65, 'a') + "@example.org").is_ok());
  CHECK_FALSE(validate_email("e", "a@" + std::string(250, 'b') + ".org").is_ok());
  CHECK(normalize_email("Maya.Parent@Example.ORG") == "Maya.Parent@example.org");
}

TEST_CASE("validate_e164_phone is strict") {
  CHECK(validate_e164_phone("phone", "+15551234567").is_ok());
  CHECK(validate_e164_phone("phone", "+12345678").is_ok());         // 8 digits
  CHECK(validate_e164_phone("phone", "+123456789012345").is_ok());  // 15 digits
  for (const char* bad : {"", "+", "15551234567", "+1234567", "+1234567890123456", "+05551234567",
                          "+1 555 123 4567", "+1555123456a", "++15551234567"}) {
    INFO(bad);
    CHECK_FALSE(validate_e164_phone("phone", bad).is_ok());
  }
  CHECK(validate_e164_phone("contacts[1].address", "x").field() == "contacts[1].address");
}

TEST_CASE("normalize_phone accepts what people type") {
  CHECK(normalize_phone("(555) 123-4567") == "+15551234567");
  CHECK(normalize_phone("555.123.4567") == "+15551234567");
  CHECK(normalize_phone("5551234567") == "+15551234567");
  CHECK(normalize_phone("1-555-123-4567") == "+15551234567");
  CHECK(normalize_phone("+1 (555) 123-4567") == "+15551234567");
  CHECK(normalize_phone("+44 20 7946 0958") == "+442079460958");
  CHECK(normalize_phone("0044 20 7946 0958") == "+442079460958");
  CHECK(normalize_phone("+15551234567") == "+15551234567");
  CHECK(normalize_phone("020 7946 0958", "44") == "+442079460958");
  for (const char* bad : {"", "123-4567", "555-123-4567 x12", "phone", "+", "2-555-123-4567",
                          "+1 555 123 4567 8901 2345", "555+1234567", "+0 555 123 4567"}) {
    INFO(bad);
    CHECK(normalize_phone(bad) == std::nullopt);
  }
}

TEST_CASE("validate_language and canonical_language") {
  CHECK(canonical_language("en") == "en");
  CHECK(canonical_language("EN") == "en");
  CHECK(canonical_language("pt-br") == "pt-BR");
  CHECK(canonical_language("PT_br") == "pt-BR");
  CHECK(canonical_language("zh-hant-tw") == "zh-Hant-TW");
  CHECK(canonical_language("sr-LATN") == "sr-Latn");
  CHECK(canonical_language("es-419") == "es-419");
  CHECK(canonical_language("haw") == "haw");
  CHECK(canonical_language("sl-ROZAJ") == "sl-rozaj");
  CHECK(canonical_language("de-CH-1901") == "de-CH-1901");
  CHECK(canonical_language("en-US-u-CA-gregory") == "en-US-u-ca-gregory");
  CHECK(canonical_language("en-x-Private") == "en-x-private");
  CHECK(canonical_language("zh-yue-HK") == "zh-yue-HK");
  for (const char* bad :
       {"", "e", "english", "en-", "-en", "en--US", "en-US-", "e1", "en-U", "en-USA1",
        "de-1901-1901", "en-u", "en-x", "en-a-b-c", "12", "en US", "en-US-u-ca-u-nu-latn"}) {
    INFO(bad);
    CHECK(canonical_language(bad) == std::nullopt);
    CHECK_FALSE(validate_language("language", bad).is_ok());
  }
  CHECK(validate_language("language", "ES").is_ok());
  CHECK(validate_language("language", "xx-").message() ==
        "must be a BCP 47 language tag like en, es, pt-BR or zh-Hant-TW");
}

TEST_CASE("validate_channel") {
  CHECK(validate_channel("channel", "email").is_ok());
  CHECK(validate_channel("channel", "sms").is_ok());
  CHECK(validate_channel("channel", "push").is_ok());
  CHECK_FALSE(validate_channel("channel", "Email").is_ok());
  CHECK_FALSE(validate_channel("channel", "fax").is_ok());
  CHECK(validate_channel("preferences.channels[2]", "").message() ==
        "must be one of email, sms, push");
  CHECK(validate_channel("preferences.channels[2]", "").field() == "preferences.channels[2]");
}

TEST_CASE("validate_id") {
  CHECK(validate_id("id", "g1").is_ok());
  CHECK(validate_id("id", "S-2024.07:a_b").is_ok());
  CHECK(validate_id("id", std::string(64, 'x')).is_ok());
  CHECK_FALSE(validate_id("id", std::string(65, 'x')).is_ok());
  CHECK_FALSE(validate_id("id", "").is_ok());
  CHECK_FALSE(validate_id("id", "a b").is_ok());
  CHECK_FALSE(validate_id("id", "a/b").is_ok());
  CHECK_FALSE(validate_id("id", "t1;t2").is_ok());
  CHECK_FALSE(validate_id("id", "\xc3\xa9").is_ok());
  CHECK(validate_id("student_id", "").message() ==
        "must be 1 to 64 characters of letters, digits, '.', '_', ':' and '-'");
}

TEST_CASE("validate_name") {
  CHECK(validate_name("name", "Maya").is_ok());
  CHECK(validate_name("name",
                      "Ng\xe1\xbb\x8d"
                      "c Anh")
            .is_ok());  // Vietnamese
  CHECK(validate_name("name", std::string(200, 'a')).is_ok());
  CHECK(validate_name("name", std::string(201, 'a')).message() == "must be at most 200 bytes");
  CHECK(validate_name("name", "").message() == "must not be empty");
  CHECK(validate_name("name", "   ").message() == "must not be empty");
  CHECK(validate_name("name", "a\xc3").message() == "must be valid UTF-8");
  CHECK(validate_name("name", "a\xc0\x80").message() == "must be valid UTF-8");      // overlong
  CHECK(validate_name("name", "a\xed\xa0\x80").message() == "must be valid UTF-8");  // surrogate
  CHECK(validate_name("name", "a\nb").message() == "must not contain control characters");
  CHECK(validate_name("name", "a\x7f").message() == "must not contain control characters");
  CHECK(validate_name("name", "a\xc2\x85").message() == "must not contain control characters");
  CHECK(validate_name("name",
                      "a\xc2\xa0"
                      "b")
            .is_ok());  // no-break space is not a control
  CHECK(validate_name("given_name", "").field() == "given_name");
}

TEST_CASE("validate_timezone") {
  CHECK(validate_timezone("timezone", "UTC").is_ok());
  CHECK(validate_timezone("timezone", "America/Chicago").is_ok());
  CHECK(validate_timezone("timezone", "America/Argentina/Buenos_Aires").is_ok());
  CHECK_FALSE(validate_timezone("timezone", "America/Chicgo").is_ok());
  CHECK_FALSE(validate_timezone("timezone", "").is_ok());
  CHECK_FALSE(validate_timezone("timezone", "../etc/passwd").is_ok());
  CHECK(validate_timezone("timezone", "Mars/Olympus").message() ==
        "must be an IANA time zone like America/Chicago or UTC");
}

TEST_CASE("is_valid_utf8") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));        // U+1F600
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe0\x80\x80"));      // overlong
  CHECK_FALSE(is_valid_utf8("\x80"));
}
