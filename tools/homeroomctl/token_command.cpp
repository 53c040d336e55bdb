#include "token_command.h"

#include <iostream>

#include "blocking.h"
#include "core/ids.h"
#include "database_location.h"

namespace homeroom::ctl {

int create_token(const TokenCreateOptions& options, const std::filesystem::path& db) {
  const auto role = parse_role(options.role);
  if (!role) {
    std::cerr << "homeroomctl: --role: must be admin or teacher\n";
    return 1;
  }
  SystemClock clock;
  auto store = open_database(db, clock);
  if (!store) {
    std::cerr << "homeroomctl: " << store.status().message() << "\n";
    return 1;
  }
  const std::string token = "hr_" + random_secret(32);
  auto id = wait_for<Result<std::string>>([&](auto done) {
    (*store)->create_token(sha256_hex(token), *role, options.staff, std::move(done));
  });
  (*store)->close();
  if (!id) {
    const Status& status = id.status();
    if (status.field() == "staff") {
      std::cerr << "homeroomctl: --staff: " << status.message()
                << " (add the staff member first: PUT /v1/staff/" << options.staff
                << ", or import a roster that names the teacher)\n";
    } else {
      std::cerr << "homeroomctl: cannot create the token: " << status.to_string() << "\n";
    }
    return 1;
  }
  std::cout << token << std::endl;
  if (!std::cout) {
    std::cerr << "homeroomctl: token " << *id
              << " was created but could not be written to stdout; create another one\n";
    return 1;
  }
  std::cerr << "token " << *id << " created for role " << options.role;
  if (!options.staff.empty()) std::cerr << " (staff " << options.staff << ")";
  std::cerr << "; it is shown only this once\n";
  return 0;
}

}  // namespace homeroom::ctl
