#include "core/model.h"

#include <array>
#include <utility>

namespace homeroom {
namespace {

constexpr std::array<std::pair<DeliveryState, const char*>, 9> kStates{{
    {DeliveryState::kPlanned, "planned"},
    {DeliveryState::kScheduled, "scheduled"},
    {DeliveryState::kQueued, "queued"},
    {DeliveryState::kSending, "sending"},
    {DeliveryState::kSent, "sent"},
    {DeliveryState::kDelivered, "delivered"},
    {DeliveryState::kFailed, "failed"},
    {DeliveryState::kSuppressed, "suppressed"},
    {DeliveryState::kDead, "dead"},
}};

}  // namespace

const char* role_name(Role role) { return role == Role::kAdmin ? "admin" : "teacher"; }

std::optional<Role> parse_role(const std::string& text) {
  if (text == "admin") return Role::kAdmin;
  if (text == "teacher") return Role::kTeacher;
  return std::nullopt;
}

const char* state_name(DeliveryState state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<DeliveryState> parse_state(const std::string& text) {
  for (const auto& [s, name] : kStates) {
    if (text == name) return s;
  }
  return std::nullopt;
}

}  // namespace homeroom
