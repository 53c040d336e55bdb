#include "api/import_json.h"

namespace homeroom::api {

Result<OneRosterUpload> oneroster_upload_from_json(const nlohmann::json& body) {
  if (!body.is_object()) return Status::invalid("body", "must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "files" && key != "dry_run") {
      return Status::invalid(key.empty() ? "\"\"" : key, "unknown field");
    }
  }
  OneRosterUpload upload;
  if (auto it = body.find("dry_run"); it != body.end()) {
    if (!it->is_boolean()) return Status::invalid("dry_run", "must be true or false");
    upload.dry_run = it->get<bool>();
  }
  auto files = body.find("files");
  if (files == body.end()) return Status::invalid("files", "is required");
  if (!files->is_object()) {
    return Status::invalid("files", "must be an object of file name -> CSV text");
  }
  for (const auto& [name, text] : files->items()) {
    const bool csv_name =
        name.size() > 4 && name.size() <= 64 && name.compare(name.size() - 4, 4, ".csv") == 0 &&
        name.find('/') == std::string::npos && name.find('\\') == std::string::npos;
    if (!csv_name) {
      return Status::invalid("files", "file names are plain names ending in .csv, like users.csv");
    }
    if (!text.is_string()) return Status::invalid("files." + name, "must be the file's text");
    upload.files[name] = text.get<std::string>();
  }
  if (!upload.files.count("manifest.csv")) {
    return Status::invalid("files.manifest.csv", "is required (OneRoster 1.1 manifest)");
  }
  return upload;
}

std::string csv_error_field(const CsvError& error) {
  std::string field = error.file.empty() ? "oneroster" : error.file;
  if (error.line > 0) field += ":" + std::to_string(error.line);
  if (!error.column.empty()) field += " " + error.column;
  return field;
}

nlohmann::json csv_errors_json(const std::vector<CsvError>& errors) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : errors) {
    out.push_back({{"field", csv_error_field(e)}, {"message", e.message}});
  }
  return out;
}

}  // namespace homeroom::api
