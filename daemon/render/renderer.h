// Turns a leased delivery into what a channel sends: the email message, the SMS text or the push
// payload. Pure: the same delivery and time always render the same bytes.
#pragma once

#include <string>

#include "channels/channel.h"
#include "core/model.h"

namespace homeroom::render {

struct RenderOptions {
  std::string from_address = "homeroom@localhost";
  std::string from_name = "homeroom";
  std::string message_id_domain = "homeroom.localhost";
};

// "Note from Ms. Lee about Maya", in the delivery's language where homeroom has the words.
std::string subject_for(const LeasedDelivery& d);
RenderedDelivery render_delivery(const LeasedDelivery& d, const RenderOptions& options, Millis now);

}  // namespace homeroom::render
