// Conversations over the REST API (docs/api.md, "Threads"):
//   GET  /v1/threads                 a teacher's own threads, an admin's school's (office inbox
//                                    included), with unread counts
//   GET  /v1/threads/{id}            both directions in order; marks the family's messages read
//   POST /v1/threads/{id}/messages   {"body"}: the teacher's answer, on the channel the family
//                                    last used
// and the reply settings PUT /v1/staff/{id} takes besides the roster fields.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "http/message.h"
#include "store/conversation_store.h"

namespace homeroom::api {

// `parts` is the split path ("v1", "threads", ...). `conversations` null: 404.
boost::asio::awaitable<http::Response> threads_route(store::ConversationStore* conversations,
                                                     Principal principal,
                                                     std::vector<std::string> parts,
                                                     http::Request request);

// Takes "office_hours" ({"days":[1..7],"start":"HH:MM","end":"HH:MM"} or null) and
// "forward_replies" (bool) out of a staff PUT body; nullopt when it has neither. A bad value is
// kInvalidArgument naming the field.
Result<std::optional<store::ReplySettings>> take_reply_settings(nlohmann::json& body);
nlohmann::json reply_settings_json(const store::ReplySettings& settings);

}  // namespace homeroom::api
