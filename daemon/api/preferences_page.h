// The family preferences page behind https://PUBLIC_URL/p/TOKEN, the link at the foot of every
// email (render/tokens.h: the token names one guardian and expires; there is no login, the link
// is the capability).
//
// GET shows a small, plain HTML form (no JavaScript, readable on a phone) in the guardian's
// language where homeroom has the words (English and Spanish; English otherwise): the order of the
// guardian's contact channels, the language, and quiet hours. POST (the same URL, so the same
// token; application/x-www-form-urlencoded) changes ONLY preferences.channels, language and
// preferences.quiet_hours, and answers with a confirmation in the new language. A bad field
// re-renders the form with a message naming it (422) and changes nothing. An expired link gets a
// 410 page, a tampered or unknown one a 404 page (English and Spanish), and changes nothing.
//
// Form fields: channel1..channelN (N = the guardian's contact channels; "" = not chosen, except
// channel1), language (BCP 47), quiet_start and quiet_end ("HH:MM", both or neither).
// Nothing here logs the token or the guardian's data.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "core/clock.h"
#include "http/message.h"
#include "store/store.h"

namespace homeroom::api {

// Answers GET and POST /p/{token}. `secret` is the store's render::kTokenSecretName secret; `now`
// decides expiry. `store` must outlive the coroutine.
boost::asio::awaitable<http::Response> preferences_page(store::Store* store, Millis now,
                                                        std::string secret, std::string token,
                                                        http::Request request);

}  // namespace homeroom::api
