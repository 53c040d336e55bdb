// POST /v1/imports/oneroster (docs/api.md): an admin uploads a OneRoster 1.1 CSV set as JSON
// ({"files": {"manifest.csv": "...", ...}, "dry_run"?}); it is parsed (roster/oneroster.h) and
// imported in one store transaction (Store::import_oneroster). 200 with the summary; 422 with one
// error per bad row, each naming "file:line column", and nothing imported.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "core/model.h"
#include "http/message.h"
#include "store/store.h"

namespace homeroom::api {

// `parts` is the split path ("v1", "imports", ...).
boost::asio::awaitable<http::Response> imports_route(store::Store* store, Principal principal,
                                                     std::vector<std::string> parts,
                                                     http::Request request);

}  // namespace homeroom::api
