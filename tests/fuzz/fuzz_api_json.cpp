// Fuzzes the API's JSON readers (api/roster_json.h, api/conference_json.h): any bytes must give
// a value or a 422-style error naming a field, never a crash; and what is accepted must survive a
// round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "api/conference_json.h"
#include "api/roster_json.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

template <typename T>
void check_error(const homeroom::Result<T>& r) {
  if (r.is_ok()) return;
  require(r.status().code() == homeroom::Code::kInvalidArgument);
  require(!r.status().field().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  using namespace homeroom::api;

  auto guardian = guardian_from_json("g1", j);
  check_error(guardian);
  if (guardian.is_ok()) {
    // What the API returns can be PUT back unchanged.
    auto again = guardian_from_json("g1", to_json(*guardian));
    require(again.is_ok());
    require(to_json(*again) == to_json(*guardian));
  }
  auto student = student_from_json("s1", j);
  check_error(student);
  if (student.is_ok()) {
    auto again = student_from_json("s1", to_json(*student));
    require(again.is_ok() && to_json(*again) == to_json(*student));
  }
  auto staff = staff_from_json("t1", j);
  check_error(staff);
  if (staff.is_ok()) require(staff_from_json("t1", to_json(*staff)).is_ok());
  auto message = message_from_json(j);
  check_error(message);
  if (message.is_ok()) require(!message->body.empty() && !message->student_id.empty());
  auto conference = conference_from_json("c1", j);
  check_error(conference);
  if (conference.is_ok()) {
    // What GET shows can be PUT back unchanged.
    auto again = conference_from_json("c1", to_json(*conference));
    require(again.is_ok() && to_json(*again) == to_json(*conference));
  }
  return 0;
}
