// `homeroomctl token create`: a new API token, printed once on stdout, stored only as its SHA-256.
#pragma once

#include <filesystem>
#include <string>

namespace homeroom::ctl {

struct TokenCreateOptions {
  std::string role;   // "admin" | "teacher" (checked by the command line parser)
  std::string staff;  // required for a teacher; optional for an admin
};

// Returns the process exit code: 0 created, 1 refused (unknown staff, database error).
int create_token(const TokenCreateOptions& options, const std::filesystem::path& db);

}  // namespace homeroom::ctl
