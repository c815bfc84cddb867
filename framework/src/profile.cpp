#include "pipeline/profile.hpp"

#include <algorithm>
#include <cstdio>

namespace pipeline {

std::string Profile::table() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %-16s %10s %10s %10s %8s %10s %10s\n", "stage", "type", "items in",
                "items out", "busy s", "busy %", "waiting s", "items/s");
  out += line;
  for (const auto& s : stages) {
    const double share = wall_seconds > 0 ? 100.0 * s.busy_seconds / wall_seconds : 0.0;
    const double count = static_cast<double>(s.items_in ? s.items_in : s.items_out);
    const double rate = s.busy_seconds > 0 ? count / s.busy_seconds : 0.0;
    // A serial stage waits whenever it is not busy; parallel stages have no single timeline to wait on.
    char waiting[32] = "-";
    if (!s.parallel) std::snprintf(waiting, sizeof waiting, "%.2f", std::max(0.0, wall_seconds - s.busy_seconds));
    std::snprintf(line, sizeof line, "%-16s %-16s %10llu %10llu %10.2f %7.1f%% %10s %10.0f\n", s.name.c_str(),
                  s.type.c_str(), static_cast<unsigned long long>(s.items_in),
                  static_cast<unsigned long long>(s.items_out), s.busy_seconds, share, waiting, rate);
    out += line;
  }
  std::snprintf(line, sizeof line, "wall %.2f s on %d thread%s; busy %% is busy time / wall time (over 100%% = ran on "
                "several threads at once)\n", wall_seconds, threads, threads == 1 ? "" : "s");
  out += line;
  if (state_saves > 0) {
    std::snprintf(line, sizeof line, "run state: %d save%s, %.3f s in all (%.1f ms each, %.1f MB, fsync'ed)\n",
                  state_saves, state_saves == 1 ? "" : "s", state_save_seconds,
                  1e3 * state_save_seconds / state_saves, static_cast<double>(state_bytes) / 1e6);
    out += line;
  }
  return out;
}

}  // namespace pipeline
