// Conference slots over the REST API (docs/api.md "Conferences"):
//   PUT    /v1/conferences/{id}    upsert a slot; its reminders are (re)planned in the same
//                                  transaction
//   GET    /v1/conferences/{id}    the slot, its reminders and their deliveries
//   GET    /v1/conferences?student_id=&staff_id=   slots by student and/or staff member
//   DELETE /v1/conferences/{id}    cancels the slot and its reminders not yet sent
//   POST   /v1/imports/conferences a CSV file (text/csv), all or nothing
// Admins may do everything; a teacher only with their own staff id, for students they teach (a
// slot of someone else is 404 to them, as a message is); imports are admins'.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "core/model.h"
#include "http/message.h"
#include "store/conference_store.h"

namespace homeroom::api {

// `parts` is the split path ("v1", "conferences", ...). `conferences` null: 404.
boost::asio::awaitable<http::Response> conferences_route(store::ConferenceStore* conferences,
                                                         store::Store* store, Principal principal,
                                                         std::vector<std::string> parts,
                                                         http::Request request);

// POST /v1/imports/conferences.
boost::asio::awaitable<http::Response> import_conferences(store::ConferenceStore* conferences,
                                                          Principal principal,
                                                          http::Request request);

}  // namespace homeroom::api
