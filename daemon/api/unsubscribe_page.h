// RFC 8058 one-click unsubscribe behind https://PUBLIC_URL/u/TOKEN, the List-Unsubscribe link of
// every non-urgent email (render/tokens.h: unsubscribe_token(guardian, category, channel)).
//
// POST (what a mail client sends: body "List-Unsubscribe=One-Click", form-urlencoded or multipart;
// the body is not required, the token is what counts) stops that category on that channel for
// that guardian (store/unsubscribe_store.h) and answers 200 with a short text/plain confirmation;
// posting again answers the same and changes nothing more. GET never changes anything (mail
// scanners follow links): it shows a small page whose button POSTs the same URL. A token homeroom
// did not issue gets a 404 page and changes nothing. Other methods: 405.
// Nothing here logs the token.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "http/message.h"
#include "store/unsubscribe_store.h"

namespace homeroom::api {

// Answers /u/{token}. `store` must outlive the coroutine.
boost::asio::awaitable<http::Response> unsubscribe_page(store::UnsubscribeStore* store,
                                                        std::string token, http::Request request);

}  // namespace homeroom::api
