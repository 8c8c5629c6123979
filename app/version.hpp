// patrol's version string, from the CMake project version.
#pragma once

namespace patrol::app {
inline constexpr const char* kVersion = PATROL_VERSION;
}
