// `homeroomctl broadcast watch ID`: follows a broadcast through homeroomd's API until it is done.
//
// Polls GET /v1/broadcasts/{id} (an admin token) every `interval_seconds`. With stderr on a
// terminal it draws a progress bar there (deliveries in a final state, of the deliveries planned
// so far) with the counts by state; otherwise it prints one line on stdout whenever they change.
// The broadcast is finished when it is planned and none of its deliveries is planned, scheduled,
// queued or sending (sent, delivered, failed, suppressed and dead are final); a cancelled one ends
// the watch too. Either way the last line (stdout) sums it up.
//
// Returns the exit code: 0 finished or cancelled; 1 an error said on stderr (unknown id, a token
// homeroomd refuses, homeroomd unreachable or answering something else).
#pragma once

#include <string>

namespace homeroom::ctl {

struct BroadcastWatchOptions {
  std::string id;
  std::string url;    // --url; empty: http://<server.listen> of the config (database_location.h)
  std::string token;  // --token, else $HOMEROOM_TOKEN
  double interval_seconds = 1.0;
};

// `api`: homeroomd's base URL (locate_api).
int watch_broadcast(const BroadcastWatchOptions& options, const std::string& api);

}  // namespace homeroom::ctl
