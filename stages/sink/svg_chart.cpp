#include "sink/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace stages {

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::vector<Series>& series,
                           int width, int height) {
  const double left = 56, right = 16, top = 28, bottom = 40;
  double lo = INFINITY, hi = -INFINITY;
  std::size_t points = 0;
  for (const auto& s : series)
    for (double v : s.values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        points = std::max(points, s.values.size());
      }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) hi = lo + 1e-3;
  const double pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  auto x_of = [&](std::size_t i) { return left + (points > 1 ? plot_w * static_cast<double>(i) / static_cast<double>(points - 1) : plot_w / 2); };
  auto y_of = [&](double v) { return top + plot_h * (hi - v) / (hi - lo); };
  char buf[256];
  std::string svg;
  std::snprintf(buf, sizeof buf,
                "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "role=\"img\" aria-label=\"%s\">",
                width, height, width, height, html_escape(title).c_str());
  svg += buf;
  std::snprintf(buf, sizeof buf, "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" class=\"title\">%s</text>", width / 2,
                html_escape(title).c_str());
  svg += buf;
  for (int k = 0; k <= 4; ++k) {
    const double v = lo + (hi - lo) * k / 4.0;
    const double y = y_of(v);
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"end\" class=\"tick\">%.4g</text>",
                  left, y, left + plot_w, y, left - 6, y + 4, v);
    svg += buf;
  }
  const std::size_t step = std::max<std::size_t>(1, points / 10);
  for (std::size_t i = 0; i < points; i += step) {
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tick\">%zu</text>", x_of(i),
                  top + plot_h + 16, i + 1);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%s</text>", left + plot_w / 2,
                height - 4, html_escape(x_label).c_str());
  svg += buf;
  double legend_x = left + 8;
  for (const auto& s : series) {
    std::string path;
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      if (!std::isfinite(s.values[i])) continue;
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x_of(i), y_of(s.values[i]));
      path += buf;
    }
    svg += "<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\" points=\"" + path + "\" data-series=\"" +
           html_escape(s.name) + "\"/>";
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      if (!std::isfinite(s.values[i])) continue;
      std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%s epoch %zu: %.4f</title></circle>",
                    x_of(i), y_of(s.values[i]), s.color.c_str(), html_escape(s.name).c_str(), i + 1, s.values[i]);
      svg += buf;
    }
    std::snprintf(buf, sizeof buf, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"3\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%s</text>",
                  legend_x, top + 6, s.color.c_str(), legend_x + 16, top + 10, html_escape(s.name).c_str());
    svg += buf;
    legend_x += 24 + 7.0 * static_cast<double>(s.name.size());
  }
  return svg + "</svg>";
}

}  // namespace stages
