// How Preferences are kept in the guardians.preferences JSON column.
#pragma once

#include <nlohmann/json.hpp>

#include "core/model.h"

namespace homeroom::store {

nlohmann::json preferences_to_json(const Preferences& p);
Preferences preferences_from_json(const nlohmann::json& j);

}  // namespace homeroom::store
