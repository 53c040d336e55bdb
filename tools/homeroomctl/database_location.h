// Where homeroomctl finds the database: --db, else the `store.path` of the configuration file that
// homeroomd would read (-c FILE, else $HOMEROOM_CONFIG, else config/homeroom.toml when it exists in
// the working directory, else /etc/homeroom/homeroom.toml). A relative store.path is resolved
// against the working directory, exactly as homeroomd resolves it.
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace homeroom::ctl {

struct DatabaseOptions {
  std::string config_file;  // -c; empty: the default search described above
  std::string db;           // --db; wins over the configuration when set
};

Result<std::filesystem::path> locate_database(const DatabaseOptions& options);

// The channels homeroomd sends on (its config's instances that are not receive-only), for what
// homeroomctl plans itself (conference reminders); every channel when no config file is found.
std::set<std::string> sending_channels(const DatabaseOptions& options);

// homeroomd's API base URL (no trailing '/'): `url` when given, else http://<server.listen> of
// the same configuration file (a wildcard address is reached on loopback).
Result<std::string> locate_api(const DatabaseOptions& options, const std::string& url);

// Store::open (creating and migrating the file as needed), with a warning when the file is new.
Result<std::unique_ptr<store::Store>> open_database(const std::filesystem::path& path,
                                                    const Clock& clock);

}  // namespace homeroom::ctl
