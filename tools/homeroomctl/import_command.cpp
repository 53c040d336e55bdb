#include "import_command.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "blocking.h"
#include "database_location.h"
#include "progress_bar.h"
#include "roster/conference_csv.h"
#include "roster/oneroster.h"
#include "roster/roster_csv.h"
#include "store/conference_store.h"

namespace homeroom::ctl {
namespace {

std::string count(int n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

int nothing_imported(int errors) {
  std::cerr << "nothing was imported: " << count(errors, "error", "errors") << "\n";
  return 1;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

// The store's teacher check, for a dry run: a teacher the file does not name must already exist.
// Reads only; a database that does not exist yet is not created.
Result<std::vector<CsvError>> unknown_teachers(const RosterImport& data,
                                               const std::filesystem::path& db) {
  std::set<std::string> named;
  for (const auto& s : data.staff) named.insert(s.id);
  std::error_code ec;
  const bool db_exists = std::filesystem::exists(db, ec);
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  std::vector<CsvError> errors;
  for (const auto& [teacher, line] : data.teacher_first_line) {
    if (named.count(teacher)) continue;
    if (db_exists && !store) {
      auto opened = store::Store::open(db, clock);
      if (!opened) return opened.status();
      store = std::move(*opened);
    }
    if (store) {
      auto staff = store->get_staff(teacher);
      if (staff) continue;
      if (staff.status().code() != Code::kNotFound) return staff.status();
    }
    errors.push_back({line, "teacher_id",
                      "unknown staff id " + teacher + " (add it with PUT /v1/staff/" + teacher +
                          " or give teacher_name in the file)"});
  }
  return errors;
}

// A CSV that did not parse: every error as "FILE:LINE: column: message"; the exit status.
int refuse_file(const std::string& file, const Status& status,
                const std::vector<CsvError>& errors) {
  for (const auto& e : errors) std::cerr << format_csv_error(file, e) << "\n";
  if (errors.empty()) std::cerr << file << ": " << status.to_string() << "\n";
  return nothing_imported(static_cast<int>(std::max<std::size_t>(errors.size(), 1)));
}

void print_errors(const std::vector<CsvError>& errors) {
  for (const auto& e : errors) std::cerr << format_csv_error(e) << "\n";
}

void print_summary(const store::OneRosterSummary& summary) {
  const auto line = [](const char* kind, const store::ImportCounts& c) {
    std::cout << kind << c.created << " created, " << c.updated << " updated, " << c.unchanged
              << " unchanged, " << c.deleted << " deleted";
    if (c.unlinked > 0) std::cout << ", " << c.unlinked << " unlinked (kept for their history)";
    std::cout << "\n";
  };
  line("  schools:   ", summary.schools);
  line("  staff:     ", summary.staff);
  line("  guardians: ", summary.guardians);
  line("  students:  ", summary.students);
  line("  classes:   ", summary.classes);
  line("  enrollments: ", summary.enrollments);
  for (const auto& note : summary.notes) std::cout << "  note: " << note << "\n";
}

}  // namespace

int import_roster(const ImportRosterOptions& options, const std::filesystem::path& db) {
  const std::string& file = options.file;
  const auto text = read_file(file);
  if (!text) {
    std::cerr << "homeroomctl: cannot read " << file << ": " << std::strerror(errno) << "\n";
    return 1;
  }

  std::vector<CsvError> errors;
  auto parsed = parse_roster_csv(*text, file, &errors);
  if (!parsed) return refuse_file(file, parsed.status(), errors);
  RosterImport& data = *parsed;
  const std::string found =
      count(static_cast<int>(data.students.size()), "student", "students") + ", " +
      count(static_cast<int>(data.guardians.size()), "guardian", "guardians") + ", " +
      count(static_cast<int>(data.staff.size()), "staff", "staff");

  if (options.dry_run) {
    auto unknown = unknown_teachers(data, db);
    if (!unknown) {
      std::cerr << "homeroomctl: " << unknown.status().to_string() << "\n";
      return 1;
    }
    if (!unknown->empty()) {
      for (const auto& e : *unknown) std::cerr << format_csv_error(file, e) << "\n";
      return nothing_imported(static_cast<int>(unknown->size()));
    }
    std::cout << file << " is valid: " << found << "; nothing was written (--dry-run)\n";
    return 0;
  }

  SystemClock clock;
  auto store = open_database(db, clock);
  if (!store) {
    std::cerr << "homeroomctl: " << store.status().message() << "\n";
    return nothing_imported(1);
  }
  auto summary = wait_for<Result<store::ImportSummary>>(
      [&](auto done) { (*store)->import_roster(std::move(data), file, std::move(done)); });
  (*store)->close();
  if (!summary) {
    const Status& status = summary.status();
    if (status.field() == "teacher_id") {
      // Already one "FILE:LINE: teacher_id: ..." line per unknown teacher.
      std::cerr << status.message() << "\n";
      const auto lines = std::count(status.message().begin(), status.message().end(), '\n') + 1;
      return nothing_imported(static_cast<int>(lines));
    }
    std::cerr << file << ": " << status.to_string() << "\n";
    return nothing_imported(1);
  }
  std::cout << "imported " << count(summary->students, "student", "students") << ", "
            << count(summary->guardians, "guardian", "guardians") << ", "
            << count(summary->staff, "staff", "staff") << " from " << file << "\n";
  return 0;
}

int import_oneroster(const ImportOneRosterOptions& options, const std::filesystem::path& db) {
  const std::string& dir = options.dir;
  ProgressBar progress(ProgressBar::stderr_is_terminal());
  progress.stage("parsing files");
  auto files = read_oneroster_dir(dir);
  if (!files) {
    progress.finish();
    std::cerr << "homeroomctl: " << dir << ": " << files.status().message() << "\n";
    return nothing_imported(1);
  }
  std::vector<CsvError> errors;
  auto parsed = parse_oneroster(*files, &errors);
  progress.update(1, 1);
  progress.finish();
  if (!parsed) {
    print_errors(errors);
    if (errors.empty()) std::cerr << dir << ": " << parsed.status().to_string() << "\n";
    return nothing_imported(static_cast<int>(std::max<std::size_t>(errors.size(), 1)));
  }
  OneRosterImport& data = *parsed;
  const std::string found =
      count(static_cast<int>(data.orgs.size()), "org", "orgs") + ", " +
      count(static_cast<int>(data.staff.size()), "staff", "staff") + ", " +
      count(static_cast<int>(data.guardians.size()), "guardian", "guardians") + ", " +
      count(static_cast<int>(data.students.size()), "student", "students") + ", " +
      count(static_cast<int>(data.classes.size()), "class", "classes");

  std::error_code ec;
  if (options.dry_run && !std::filesystem::exists(db, ec)) {
    std::cout << dir << " is valid: " << found << "; nothing was written (--dry-run)\n";
    return 0;
  }
  SystemClock clock;
  auto store = options.dry_run ? store::Store::open(db, clock) : open_database(db, clock);
  if (!store) {
    std::cerr << "homeroomctl: " << store.status().message() << "\n";
    return nothing_imported(1);
  }
  progress.stage("importing");
  auto summary = wait_for<Result<store::OneRosterSummary>>([&](auto done) {
    (*store)->import_oneroster(
        std::move(data), options.dry_run,
        [&progress](std::size_t n, std::size_t total) { progress.update(n, total); },
        std::move(done));
  });
  (*store)->close();
  progress.finish();
  if (!summary) {
    std::cerr << dir << ": " << summary.status().to_string() << "\n";
    return nothing_imported(1);
  }
  if (options.dry_run) {
    std::cout << dir << " is valid: " << found
              << "; an import would do this (nothing was written, --dry-run):\n";
  } else {
    std::cout << "imported " << dir << " (" << found << "):\n";
  }
  print_summary(*summary);
  return 0;
}

int import_conferences(const ImportConferencesOptions& options, const std::filesystem::path& db,
                       const std::set<std::string>& channels) {
  const std::string& file = options.file;
  const auto text = read_file(file);
  if (!text) {
    std::cerr << "homeroomctl: cannot read " << file << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::vector<CsvError> errors;
  auto rows = parse_conference_csv(*text, file, &errors);
  if (!rows) return refuse_file(file, rows.status(), errors);
  const std::string found = count(static_cast<int>(rows->size()), "slot", "slots");
  std::error_code ec;
  if (options.dry_run && !std::filesystem::exists(db, ec)) {
    std::cout << file << " is well-formed: " << found
              << "; no database to check students and staff against (nothing was written)\n";
    return 0;
  }
  SystemClock clock;
  auto store = options.dry_run ? store::Store::open(db, clock) : open_database(db, clock);
  if (!store) {
    std::cerr << "homeroomctl: " << store.status().message() << "\n";
    return nothing_imported(1);
  }
  store::ConferenceOptions conference_options;
  conference_options.available_channels = channels;
  store::ConferenceStore conferences(**store, db, clock, conference_options);
  auto summary = wait_for<Result<store::ConferenceImportSummary>>(
      [&](auto done) { conferences.import(std::move(*rows), options.dry_run, std::move(done)); });
  (*store)->close();
  if (!summary) {
    std::cerr << file << ": " << summary.status().to_string() << "\n";
    return nothing_imported(1);
  }
  if (!summary->errors.empty()) {
    for (const auto& e : summary->errors) std::cerr << format_csv_error(file, e) << "\n";
    return nothing_imported(static_cast<int>(summary->errors.size()));
  }
  const std::string what = std::to_string(summary->created) + " created, " +
                           std::to_string(summary->updated) + " updated, " +
                           std::to_string(summary->unchanged) + " unchanged; " +
                           count(summary->reminders, "reminder", "reminders") + " planned";
  if (options.dry_run) {
    std::cout << file << " is valid (" << found << "): an import would do this: " << what
              << " (nothing was written, --dry-run)\n";
  } else {
    std::cout << "imported " << file << " (" << found << "): " << what << "\n";
  }
  return 0;
}

}  // namespace homeroom::ctl
