// The CSV reading shared by the roster imports (roster_csv.h, oneroster.h).
//
// RFC 4180: quoted fields, "" inside quotes, commas and line breaks inside quotes; line breaks are
// "\r\n", "\n" or a lone "\r"; a UTF-8 byte order mark at the start is skipped. Each record knows
// the physical line (1-based) it starts on, so a quoted line break makes later records start
// further down, and errors point at the line an editor shows.
//
// Errors (CsvError) never carry field values: rosters hold families' contact data and children's
// names, and errors end up in logs and terminals.
//
// Pure, no I/O; a CsvReader reads one text and is not shared between threads.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace homeroom {

struct CsvError {
  int line = 0;
  std::string column;  // empty when the error is about the row or file as a whole
  std::string message;
  std::string file = {};  // set by imports that read several files (oneroster.h), else empty

  bool operator==(const CsvError&) const = default;
};

// "roster.csv:7: email: must be an email address like name@example.org"
std::string format_csv_error(std::string_view source_name, const CsvError& error);
// The same with error.file as the source name: "users.csv:17: email: ...".
std::string format_csv_error(const CsvError& error);

// One record: the physical line it starts on, its fields (untrimmed), and a syntax error if any
// (then `fields` holds what was read before it, and the rest of the line was skipped).
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
  std::string error;
};

class CsvReader {
 public:
  explicit CsvReader(std::string_view text);
  // The next record; false at the end of the text.
  bool next(CsvRecord& record);
  // The next record that is not blank (see is_blank_csv_record); false at the end of the text.
  bool next_nonblank(CsvRecord& record);
  // The next data record that is not blank, is well-formed and has `width` fields (the header's);
  // the others are reported in `errors` and skipped. False at the end of the text.
  bool next_row(std::size_t width, CsvRecord& record, std::vector<CsvError>& errors);

 private:
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool at_line_end() const { return pos_ >= text_.size() || at('\n') || at('\r'); }
  void end_of_line();
  void skip_line();
  bool read_plain(std::string& field, CsvRecord& record);
  bool read_quoted(std::string& field, CsvRecord& record);

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

// Without surrounding spaces and tabs.
std::string_view trim_csv_field(std::string_view field);
// ASCII lowercase.
std::string ascii_lowercase(std::string_view text);
// A well-formed record whose fields are all empty after trimming.
bool is_blank_csv_record(const CsvRecord& record);

struct CsvColumn {
  std::string name;  // as reported in errors and used as the key of CsvColumns
  bool required = false;
};
enum class UnknownCsvColumns { kError, kIgnore };
// Column name -> field index.
using CsvColumns = std::map<std::string, std::size_t>;

// Reads a header row: names are trimmed and matched to `known` case-insensitively. Reports a
// syntax error, a known column given twice, a missing required column, and depending on
// `unknown` an unknown column (kError; then also a column without a name) at the header's line.
// Returns false when rows cannot be interpreted (anything but an unknown column).
bool read_csv_header(const CsvRecord& header, const std::vector<CsvColumn>& known,
                     UnknownCsvColumns unknown, CsvColumns& columns, std::vector<CsvError>& errors);

// The trimmed value of `column` in `record`; empty when the column is absent from the header.
std::string csv_field(const CsvColumns& columns, const CsvRecord& record, std::string_view column);

// What a file parse with errors returns: kInvalidArgument "N bad rows" (N distinct lines) with
// `field()` = source_name; `found` is appended to `*errors` when `errors` is not null.
Status csv_bad_rows(const std::vector<CsvError>& found, std::string_view source_name,
                    std::vector<CsvError>* errors);

}  // namespace homeroom
