// A broadcast copy's text, filled in at send time from the template the delivery carries
// (LeasedDelivery::text) and the contexts the store built for it (LeasedDelivery::
// template_contexts: one JSON object per student the copy is about, with guardian, student,
// staff, school and that student's own variables).
//
// Siblings are named together where the template allows: a template that uses no per-student
// variable is rendered once, with student.given_name naming every student of the copy ("Maya &
// Leo"); one that does (a conference slot) is rendered once per student and the texts are joined
// by a blank line, so each child's slot is in the one message. Plain text (no HTML escaping): the
// email renderer escapes when it builds the HTML part. Pure and thread-safe.
#pragma once

#include <string>

#include "core/model.h"
#include "core/status.h"

namespace homeroom::render {

// kInvalidArgument when the template does not parse or the contexts are not a JSON array;
// kTooLarge from Template::render. `school_name` stands in for an empty school.name.
Result<std::string> fill_broadcast_text(const LeasedDelivery& delivery,
                                        const std::string& school_name);

}  // namespace homeroom::render
