#pragma once
// Line charts as inline SVG, so reports need no scripts or network to show curves.
#include <string>
#include <vector>

namespace stages {

struct Series {
  std::string name;
  std::string color;
  std::vector<double> values;  // y per x = 1, 2, ...
};

std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::vector<Series>& series,
                           int width = 520, int height = 300);
std::string html_escape(const std::string& text);

}  // namespace stages
