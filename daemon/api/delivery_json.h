// One delivery as GET /v1/messages/{id} shows it (state, attempts, masked address, events, ...);
// shared by the views that list deliveries (messages, conference reminders).
#pragma once

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace homeroom::api {

nlohmann::json delivery_json(const store::DeliveryView& d);

}  // namespace homeroom::api
