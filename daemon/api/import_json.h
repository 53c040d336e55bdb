// The body of POST /v1/imports/oneroster (docs/api.md):
//   {"files": {"manifest.csv": "<csv text>", "users.csv": "...", ...}, "dry_run": false}
// and how a failed OneRoster parse is told back: one {"field": "users.csv:17 email", "message"}
// per error. Pure; fuzzed by tests/fuzz/fuzz_import_json.cpp.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "roster/csv.h"

namespace homeroom::api {

struct OneRosterUpload {
  std::map<std::string, std::string> files;  // file name -> content
  bool dry_run = false;
};

// kInvalidArgument naming the field ("files", "files.users.csv", "dry_run", "body") when the body
// is not of that shape: file names are plain names ending in ".csv" (no '/'), manifest.csv is
// required, values are strings.
Result<OneRosterUpload> oneroster_upload_from_json(const nlohmann::json& body);

// "users.csv:17 email" (file, line when known, column when known).
std::string csv_error_field(const CsvError& error);
// [{"field", "message"}] for a problem's "errors".
nlohmann::json csv_errors_json(const std::vector<CsvError>& errors);

}  // namespace homeroom::api
