#include "core/redact.h"

namespace homeroom {

std::string mask_phone(std::string_view phone) {
  std::string out(phone);
  std::size_t digits = 0;
  for (char c : out) digits += (c >= '0' && c <= '9');
  if (digits < 6) return std::string(out.size(), '*');
  // Keep the leading '+' and country digit and the last four digits.
  std::size_t seen = 0;
  for (char& c : out) {
    if (c < '0' || c > '9') continue;
    ++seen;
    if (seen > 1 && seen + 4 <= digits) c = '*';
  }
  return out;
}

std::string mask_email(std::string_view email) {
  auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0) return "***";
  std::string_view local = email.substr(0, at);
  std::string_view domain = email.substr(at + 1);
  auto dot = domain.rfind('.');
  std::string out;
  out += local.front();
  out += "***@";
  if (dot == std::string_view::npos || dot == 0) return out + "***";
  out += domain.front();
  out += "***";
  out += domain.substr(dot);
  return out;
}

std::string mask_address(std::string_view address) {
  if (address.find("://") != std::string_view::npos) {
    auto start = address.find("://") + 3;
    auto end = address.find('/', start);
    return std::string(address.substr(0, end)) + "/***";
  }
  if (address.find('@') != std::string_view::npos) return mask_email(address);
  return mask_phone(address);
}

}  // namespace homeroom
