#include "roster/conference_csv.h"

#include <charconv>
#include <map>
#include <string>

#include "roster/validate.h"

namespace homeroom {
namespace {

constexpr std::size_t kMaxNoteBytes = 500;

const std::vector<CsvColumn>& known_columns() {
  static const std::vector<CsvColumn> kColumns{
      {"conference_id", true},    {"student_id", true}, {"staff_id", true}, {"starts_at", true},
      {"duration_minutes", true}, {"place", true},      {"note", false}};
  return kColumns;
}

}  // namespace

Status validate_conference(const Conference& c, std::string_view id_field) {
  if (Status s = validate_id(id_field, c.id); !s) return s;
  if (Status s = validate_id("student_id", c.student_id); !s) return s;
  if (Status s = validate_id("staff_id", c.staff_id); !s) return s;
  if (c.duration_minutes < 1 || c.duration_minutes > kMaxConferenceMinutes) {
    return Status::invalid("duration_minutes", "expected whole minutes from 1 to 480");
  }
  if (Status s = validate_name("place", c.place); !s) return s;
  if (!c.note.empty()) {
    if (c.note.size() > kMaxNoteBytes) return Status::invalid("note", "at most 500 bytes");
    if (!is_valid_utf8(c.note)) return Status::invalid("note", "must be valid UTF-8");
    for (unsigned char ch : c.note) {
      if ((ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || ch == 0x7f) {
        return Status::invalid("note", "must not contain control characters");
      }
    }
  }
  return {};
}

Result<std::vector<ConferenceRow>> parse_conference_csv(std::string_view text,
                                                        std::string_view source_name,
                                                        std::vector<CsvError>* errors) {
  std::vector<CsvError> found;
  std::vector<ConferenceRow> rows;
  CsvReader reader(text);
  CsvRecord record;
  if (!reader.next_nonblank(record)) {
    found.push_back({1, "", "the file is empty: expected a header row naming the columns"});
  } else {
    CsvColumns columns;
    const bool usable =
        read_csv_header(record, known_columns(), UnknownCsvColumns::kError, columns, found);
    const std::size_t width = record.fields.size();
    std::map<std::string, int> first_line;  // conference_id -> line
    while (usable && reader.next_row(width, record, found)) {
      const std::size_t before = found.size();
      auto fail = [&](std::string column, std::string message) {
        found.push_back({record.line, std::move(column), std::move(message)});
      };
      ConferenceRow row;
      row.line = record.line;
      Conference& c = row.conference;
      c.id = csv_field(columns, record, "conference_id");
      c.student_id = csv_field(columns, record, "student_id");
      c.staff_id = csv_field(columns, record, "staff_id");
      c.place = csv_field(columns, record, "place");
      c.note = csv_field(columns, record, "note");
      if (!parse_rfc3339(csv_field(columns, record, "starts_at"), c.starts_at)) {
        fail("starts_at",
             "expected an RFC 3339 time with its offset, e.g. 2026-11-24T15:00:00-06:00");
      }
      const std::string minutes = csv_field(columns, record, "duration_minutes");
      const auto [end, ec] =
          std::from_chars(minutes.data(), minutes.data() + minutes.size(), c.duration_minutes);
      if (ec != std::errc() || end != minutes.data() + minutes.size()) {
        fail("duration_minutes", "expected whole minutes from 1 to 480");
      } else if (Status s = validate_conference(c, "conference_id"); !s) {
        fail(s.field(), s.message());
      }
      if (found.size() == before) {
        auto [it, added] = first_line.emplace(c.id, record.line);
        if (!added) {
          fail("conference_id", "listed twice (first on line " + std::to_string(it->second) + ")");
        }
      }
      if (found.size() == before) rows.push_back(std::move(row));
    }
  }
  if (found.empty()) return rows;
  return csv_bad_rows(found, source_name, errors);
}

}  // namespace homeroom
