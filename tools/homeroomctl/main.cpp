// homeroomctl: the administrator's command line for homeroomd's database.
//
// Exit codes: 0 done, 1 refused (bad input, unknown ids, database errors), 2 usage errors.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "broadcast_command.h"
#include "database_location.h"
#include "import_command.h"
#include "token_command.h"

namespace {

constexpr int kUsageError = 2;

// Runs `command` against the database the global options point at.
template <typename Command>
int with_database(const homeroom::ctl::DatabaseOptions& options, Command command) {
  auto db = homeroom::ctl::locate_database(options);
  if (!db) {
    std::cerr << "homeroomctl: " << db.status().message() << "\n";
    return 1;
  }
  return command(*db);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace homeroom::ctl;

  // stdout carries only what a script captures (a new token); every log line goes to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_st("homeroomctl"));
  spdlog::set_pattern("homeroomctl: %l: %v");

  CLI::App app{"homeroomctl: administer homeroomd's database (tokens, roster imports)",
               "homeroomctl"};
  app.require_subcommand(1);
  // Global options may also follow a subcommand: `homeroomctl import roster x.csv -v`.
  app.fallthrough();
  app.footer(
      "Examples:\n"
      "  TOKEN=$(homeroomctl token create --role admin)\n"
      "  homeroomctl token create --role teacher --staff t1\n"
      "  homeroomctl import roster roster.csv --dry-run\n"
      "  homeroomctl import oneroster sis-export/\n"
      "  homeroomctl import conferences conferences.csv\n"
      "  HOMEROOM_TOKEN=$ADMIN homeroomctl broadcast watch bc_123\n"
      "\n"
      "Exit status: 0 done, 1 refused (nothing was changed), 2 usage error.");
  DatabaseOptions db_options;
  bool verbose = false;
  app.add_option("-c,--config", db_options.config_file,
                 "homeroomd's config file, for store.path (default: $HOMEROOM_CONFIG, else "
                 "config/homeroom.toml if present, else /etc/homeroom/homeroom.toml)");
  app.add_option("--db", db_options.db, "The database file; overrides the config's store.path");
  app.add_flag("-v,--verbose", verbose, "Log what is done (info level)");

  auto* token = app.add_subcommand("token", "API tokens")->require_subcommand(1);
  TokenCreateOptions token_options;
  auto* token_create =
      token->add_subcommand("create", "Create an API token; print it once on stdout");
  token_create->add_option("--role", token_options.role, "admin or teacher")
      ->required()
      ->check(CLI::IsMember({"admin", "teacher"}));
  token_create->add_option("--staff", token_options.staff,
                           "Staff id the token acts as (required for --role teacher)");

  auto* import = app.add_subcommand("import", "Import data")->require_subcommand(1);
  ImportRosterOptions import_options;
  auto* import_roster_cmd =
      import->add_subcommand("roster", "Import a roster CSV: all of it, or nothing");
  import_roster_cmd->add_option("FILE", import_options.file, "The roster CSV")->required();
  import_roster_cmd->add_flag("--dry-run", import_options.dry_run,
                              "Check the file (and its teacher ids) without writing anything");

  ImportOneRosterOptions oneroster_options;
  auto* import_oneroster_cmd = import->add_subcommand(
      "oneroster", "Import a OneRoster 1.1 CSV directory (manifest.csv, orgs.csv, users.csv, ...)");
  import_oneroster_cmd->add_option("DIR", oneroster_options.dir, "The directory of CSV files")
      ->required();
  import_oneroster_cmd->add_flag(
      "--dry-run", oneroster_options.dry_run,
      "Check the files and show what an import would change, without writing anything");

  ImportConferencesOptions conferences_options;
  auto* import_conferences_cmd = import->add_subcommand(
      "conferences",
      "Import conference slots from a CSV (conference_id, student_id, staff_id, starts_at, "
      "duration_minutes, place[, note]): all of it, or nothing; reminders are planned");
  import_conferences_cmd->add_option("FILE", conferences_options.file, "The conferences CSV")
      ->required();
  import_conferences_cmd->add_flag(
      "--dry-run", conferences_options.dry_run,
      "Check the file against the database and show what an import would do, writing nothing");

  auto* broadcast = app.add_subcommand("broadcast", "Broadcasts")->require_subcommand(1);
  BroadcastWatchOptions watch_options;
  std::string api_url;
  auto* watch_cmd = broadcast->add_subcommand(
      "watch",
      "Follow a broadcast through homeroomd's API (GET /v1/broadcasts/ID) until every delivery "
      "is final or it is cancelled; exit 0 then, 1 on an error");
  watch_cmd->add_option("ID", watch_options.id, "The broadcast id (bc_...)")->required();
  watch_cmd->add_option("--url", api_url,
                        "homeroomd's API (default: http://<server.listen> of the config)");
  watch_cmd
      ->add_option("--token", watch_options.token, "An admin API token (default: $HOMEROOM_TOKEN)")
      ->envname("HOMEROOM_TOKEN")
      ->required();
  watch_cmd
      ->add_option("--interval", watch_options.interval_seconds,
                   "Seconds between two looks (default 1)")
      ->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
    if (*token_create && token_options.role == "teacher" && token_options.staff.empty()) {
      throw CLI::ValidationError("--staff",
                                 "--role teacher requires --staff ID (the teacher's staff id)");
    }
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kUsageError;
  }
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);

  if (*token_create) {
    return with_database(db_options,
                         [&](const auto& db) { return create_token(token_options, db); });
  }
  if (*import_roster_cmd) {
    return with_database(db_options,
                         [&](const auto& db) { return import_roster(import_options, db); });
  }
  if (*import_oneroster_cmd) {
    return with_database(db_options,
                         [&](const auto& db) { return import_oneroster(oneroster_options, db); });
  }
  if (*import_conferences_cmd) {
    return with_database(db_options, [&](const auto& db) {
      return import_conferences(conferences_options, db, sending_channels(db_options));
    });
  }
  if (*watch_cmd) {
    auto api = locate_api(db_options, api_url);
    if (!api) {
      std::cerr << "homeroomctl: " << api.status().message() << "\n";
      return 1;
    }
    return watch_broadcast(watch_options, *api);
  }
  return kUsageError;  // unreachable: require_subcommand
}
