#pragma once
// Line charts as inline SVG, so reports need no scripts or network to show curves.
#include <cmath>
#include <string>
#include <vector>

namespace stages {

struct Series {
  std::string name;
  std::string color;
  std::vector<double> values;  // y per x = 1, 2, ...
};

struct ChartAxes {
  std::string x_label = "epoch";
  std::string y_label;
  bool log_y = false;                               // powers of ten (values must be > 0; others are skipped)
  double y_floor = -INFINITY, y_ceiling = INFINITY;  // bounds the axis never passes (accuracy: 0..1)
};

// Ticks on round numbers (1-2-5 steps, or powers of ten on a log axis), covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, bool log_scale);
// A tick's text with as many decimals as its step needs: 0.02, not 0.019999 or ").009741".
std::string tick_text(double value, double step);

std::string svg_line_chart(const std::string& title, const ChartAxes& axes, const std::vector<Series>& series,
                           int width = 520, int height = 300);
std::string html_escape(const std::string& text);

}  // namespace stages
