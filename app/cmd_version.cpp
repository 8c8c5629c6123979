#include <iostream>

#include "app/commands.hpp"
#include "app/version.hpp"

namespace patrol::app {

int run_version(int /*argc*/, char** /*argv*/) {
  std::cout << "patrol " << kVersion << "\n";
  return 0;
}

}  // namespace patrol::app
