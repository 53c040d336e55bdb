// `homeroomctl import roster FILE.csv`: a roster CSV (see roster/roster_csv.h) into the database,
// all or nothing. Every problem is reported as "FILE:LINE: column: message", never echoing a value
// from the file, so family phone numbers and email addresses stay out of terminals and logs.
#pragma once

#include <filesystem>
#include <set>
#include <string>

namespace homeroom::ctl {

struct ImportRosterOptions {
  std::string file;
  bool dry_run = false;  // parse and check the teachers, write nothing
};

// Returns the process exit code: 0 imported (or valid, for a dry run), 1 nothing was imported.
int import_roster(const ImportRosterOptions& options, const std::filesystem::path& db);

// `homeroomctl import oneroster DIR`: a OneRoster 1.1 CSV set (roster/oneroster.h) in one
// transaction. Errors as "users.csv:17: email: ..."; a progress bar on stderr when it is a
// terminal; the summary (created/updated/unchanged/deleted per kind) on stdout.
struct ImportOneRosterOptions {
  std::string dir;
  // Parse, and when the database exists run the import and roll it back: the summary says what
  // an import would change.
  bool dry_run = false;
};
int import_oneroster(const ImportOneRosterOptions& options, const std::filesystem::path& db);

// `homeroomctl import conferences FILE.csv`: conference slots (roster/conference_csv.h) in one
// transaction, their reminders planned on `channels` (store/conference_store.h). A row naming an
// unknown student or staff member, or a new or moved slot that is not in the future, is an error
// on its line; with any error nothing is imported. A re-import updates in place.
struct ImportConferencesOptions {
  std::string file;
  bool dry_run = false;  // check the file against the database, write nothing
};
int import_conferences(const ImportConferencesOptions& options, const std::filesystem::path& db,
                       const std::set<std::string>& channels);

}  // namespace homeroom::ctl
