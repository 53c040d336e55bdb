// Conference slots from a CSV file (homeroomctl import conferences, POST /v1/imports/conferences)
// and the field rules every way a slot comes in shares (PUT /v1/conferences/{id} too).
//
// Format: RFC 4180 CSV as in roster/csv.h (quotes, CRLF or LF, a UTF-8 BOM skipped, fields trimmed,
// blank rows skipped). The first row names the columns, in any order, case-insensitively:
//   required: conference_id, student_id, staff_id, starts_at, duration_minutes, place
//   optional: note
// One row per slot; a conference_id appears once per file. starts_at is RFC 3339 with "Z" or a
// numeric offset ("2026-11-24T15:00:00-06:00"); that the students and staff exist and that new or
// moved slots are in the future is the store's check (it knows the database and the time).
//
// Line numbers are physical lines (1-based) of the start of a row. Errors never echo values.
// Pure (no I/O), thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/status.h"
#include "roster/csv.h"

namespace homeroom {

constexpr int kMaxConferenceMinutes = 480;

// The rules on a slot's own fields, naming the field: id, student_id and staff_id are ids
// (validate_id; the slot's id is named `id_field`), duration_minutes 1..480, place a name
// (validate_name), note empty or at most 500 bytes of UTF-8 text without control characters but
// line breaks.
Status validate_conference(const Conference& c, std::string_view id_field = "id");

struct ConferenceRow {
  Conference conference;
  int line = 0;
};

// Parses and validates the whole file. On any error returns kInvalidArgument "N bad rows" with
// `field()` = source_name, and when `errors` is not null appends every error, in line order.
Result<std::vector<ConferenceRow>> parse_conference_csv(std::string_view text,
                                                        std::string_view source_name,
                                                        std::vector<CsvError>* errors);

}  // namespace homeroom
