// `homeroomctl import roster FILE.csv`: a roster CSV (see roster/roster_csv.h) into the database,
// all or nothing. Every problem is reported as "FILE:LINE: column: message", never echoing a value
// from the file, so family phone numbers and email addresses stay out of terminals and logs.
#pragma once

#include <filesystem>
#include <string>

namespace homeroom::ctl {

struct ImportRosterOptions {
  std::string file;
  bool dry_run = false;  // parse and check the teachers, write nothing
};

// Returns the process exit code: 0 imported (or valid, for a dry run), 1 nothing was imported.
int import_roster(const ImportRosterOptions& options, const std::filesystem::path& db);

}  // namespace homeroom::ctl
