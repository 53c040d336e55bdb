#include "roster/csv.h"

#include <algorithm>
#include <set>
#include <utility>

namespace homeroom {

std::string format_csv_error(std::string_view source_name, const CsvError& error) {
  std::string out = std::string(source_name) + ":" + std::to_string(error.line) + ": ";
  if (!error.column.empty()) out += error.column + ": ";
  return out + error.message;
}

std::string format_csv_error(const CsvError& error) { return format_csv_error(error.file, error); }

CsvReader::CsvReader(std::string_view text) : text_(text) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
}

bool CsvReader::next(CsvRecord& record) {
  if (pos_ >= text_.size()) return false;
  record = CsvRecord{line_, {}, {}};
  while (true) {
    std::string field;
    const bool ok = at('"') ? read_quoted(field, record) : read_plain(field, record);
    record.fields.push_back(std::move(field));
    if (!ok) {
      skip_line();
      return true;
    }
    if (at(',')) {
      ++pos_;
      continue;
    }
    end_of_line();
    return true;
  }
}

bool CsvReader::next_nonblank(CsvRecord& record) {
  while (next(record)) {
    if (!is_blank_csv_record(record)) return true;
  }
  return false;
}

bool CsvReader::next_row(std::size_t width, CsvRecord& record, std::vector<CsvError>& errors) {
  while (next_nonblank(record)) {
    if (!record.error.empty()) {
      errors.push_back({record.line, "", record.error});
      continue;
    }
    if (record.fields.size() != width) {
      errors.push_back({record.line, "",
                        "expected " + std::to_string(width) + " fields like the header, got " +
                            std::to_string(record.fields.size())});
      continue;
    }
    return true;
  }
  return false;
}

// Consumes one line break (or nothing at the end of the text).
void CsvReader::end_of_line() {
  if (at('\r')) {
    ++pos_;
    if (at('\n')) ++pos_;
    ++line_;
  } else if (at('\n')) {
    ++pos_;
    ++line_;
  }
}

void CsvReader::skip_line() {
  while (!at_line_end()) ++pos_;
  end_of_line();
}

bool CsvReader::read_plain(std::string& field, CsvRecord& record) {
  while (!at_line_end() && !at(',')) {
    if (at('"')) {
      record.error =
          "a quote inside an unquoted field (quote the whole field and double the quote)";
      return false;
    }
    field += text_[pos_++];
  }
  return true;
}

bool CsvReader::read_quoted(std::string& field, CsvRecord& record) {
  ++pos_;  // opening quote
  while (true) {
    if (pos_ >= text_.size()) {
      record.error = "a quoted field is not closed";
      return false;
    }
    const char c = text_[pos_];
    if (c == '"') {
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
        field += '"';
        pos_ += 2;
        continue;
      }
      ++pos_;  // closing quote
      if (at(',') || at_line_end()) return true;
      record.error = "text after the closing quote of a field";
      return false;
    }
    if (c == '\n' || (c == '\r' && !(pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'))) {
      ++line_;
    }
    field += c;
    ++pos_;
  }
}

std::string_view trim_csv_field(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string ascii_lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_blank_csv_record(const CsvRecord& record) {
  return record.error.empty() &&
         std::all_of(record.fields.begin(), record.fields.end(),
                     [](const std::string& f) { return trim_csv_field(f).empty(); });
}

bool read_csv_header(const CsvRecord& header, const std::vector<CsvColumn>& known,
                     UnknownCsvColumns unknown, CsvColumns& columns,
                     std::vector<CsvError>& errors) {
  if (!header.error.empty()) {
    errors.push_back({header.line, "", header.error});
    return false;
  }
  std::map<std::string, const CsvColumn*> by_lowercase;
  for (const auto& column : known) by_lowercase.emplace(ascii_lowercase(column.name), &column);
  bool usable = true;
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = ascii_lowercase(trim_csv_field(header.fields[i]));
    auto it = by_lowercase.find(name);
    if (it == by_lowercase.end()) {
      if (unknown == UnknownCsvColumns::kIgnore) continue;
      if (name.empty()) {
        errors.push_back({header.line, "", "column " + std::to_string(i + 1) + " has no name"});
        usable = false;
      } else {
        errors.push_back({header.line, name, "unknown column"});
      }
      continue;
    }
    if (!columns.emplace(it->second->name, i).second) {
      errors.push_back({header.line, it->second->name, "duplicate column"});
      usable = false;
    }
  }
  for (const auto& column : known) {
    if (column.required && columns.count(column.name) == 0) {
      errors.push_back({header.line, column.name, "required column is missing"});
      usable = false;
    }
  }
  return usable;
}

std::string csv_field(const CsvColumns& columns, const CsvRecord& record, std::string_view column) {
  auto it = columns.find(std::string(column));
  if (it == columns.end() || it->second >= record.fields.size()) return {};
  return std::string(trim_csv_field(record.fields[it->second]));
}

Status csv_bad_rows(const std::vector<CsvError>& found, std::string_view source_name,
                    std::vector<CsvError>* errors) {
  std::set<int> bad_lines;
  for (const auto& e : found) bad_lines.insert(e.line);
  const std::size_t bad = bad_lines.size();
  if (errors != nullptr) errors->insert(errors->end(), found.begin(), found.end());
  return Status(Code::kInvalidArgument, std::to_string(bad) + (bad == 1 ? " bad row" : " bad rows"),
                std::string(source_name));
}

}  // namespace homeroom
