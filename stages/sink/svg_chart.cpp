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

std::vector<double> nice_ticks(double lo, double hi, bool log_scale) {
  std::vector<double> ticks;
  if (log_scale) {
    for (double decade = std::pow(10.0, std::floor(std::log10(lo))); decade <= hi * 1.0000001; decade *= 10)
      for (double m : {1.0, 2.0, 5.0})
        if (decade * m >= lo * 0.9999999 && decade * m <= hi * 1.0000001) ticks.push_back(decade * m);
    return ticks;
  }
  const double raw = (hi - lo) / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 5.0})
    if (magnitude * m >= raw) {
      step = magnitude * m;
      break;
    }
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; ++k) ticks.push_back(k * step);
  return ticks;
}

std::string tick_text(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(value) < step * 1e-6 ? 0.0 : value);
  return buf;
}

namespace {

struct ValueRange {
  double lo = INFINITY, hi = -INFINITY;
  double step = 0;  // between linear ticks
  std::size_t points = 0;
};

ValueRange range_of(const std::vector<Series>& series, const ChartAxes& axes) {
  ValueRange r;
  for (const auto& s : series) {
    r.points = std::max(r.points, s.values.size());
    for (double v : s.values)
      if (std::isfinite(v) && (!axes.log_y || v > 0)) r.lo = std::min(r.lo, v), r.hi = std::max(r.hi, v);
  }
  if (!std::isfinite(r.lo)) r.lo = axes.log_y ? 0.1 : 0, r.hi = 1;
  if (axes.log_y) {
    r.lo = std::pow(10.0, std::floor(std::log10(r.lo)));
    r.hi = std::pow(10.0, std::ceil(std::log10(r.hi) - 1e-9));
    if (r.hi <= r.lo) r.hi = r.lo * 10;
    return r;
  }
  if (r.hi - r.lo < 1e-9) r.hi = r.lo + std::max(1e-3, std::abs(r.lo) * 0.01);
  const double pad = (r.hi - r.lo) * 0.05;
  r.lo = std::max(axes.y_floor, r.lo - pad);
  r.hi = std::min(axes.y_ceiling, r.hi + pad);
  // Out to the nearest ticks, so the axis starts and ends on a labelled round number.
  const std::vector<double> ticks = nice_ticks(r.lo, r.hi, false);
  r.step = ticks.size() > 1 ? ticks[1] - ticks[0] : (r.hi - r.lo);
  r.lo = std::max(axes.y_floor, std::floor(r.lo / r.step + 1e-9) * r.step);
  r.hi = std::min(axes.y_ceiling, std::ceil(r.hi / r.step - 1e-9) * r.step);
  return r;
}

}  // namespace

std::string svg_line_chart(const std::string& title, const ChartAxes& axes, const std::vector<Series>& series,
                           int width, int height) {
  const ValueRange range = range_of(series, axes);
  const double lo = range.lo, hi = range.hi;
  const std::size_t points = range.points;
  // The range already ends on multiples of its step: every one of them is a tick.
  std::vector<double> ticks;
  if (axes.log_y) {
    ticks = nice_ticks(lo, hi, true);
  } else {
    for (double k = std::round(lo / range.step); k * range.step <= hi + range.step * 1e-9; ++k) ticks.push_back(k * range.step);
  }
  const double step = range.step;
  std::vector<std::string> labels;
  std::size_t widest = 1;
  for (double t : ticks) {
    labels.push_back(axes.log_y ? tick_text(t, t) : tick_text(t, step));
    widest = std::max(widest, labels.back().size());
  }
  // Room for the widest tick label (about 7 px a character at 11 px) and the rotated axis title.
  const double left = 30 + 7.0 * static_cast<double>(widest), right = 16, top = 28, bottom = 40;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  auto x_of = [&](std::size_t i) {
    return left + (points > 1 ? plot_w * static_cast<double>(i) / static_cast<double>(points - 1) : plot_w / 2);
  };
  auto y_of = [&](double v) {
    const double f = axes.log_y ? (std::log10(hi) - std::log10(v)) / (std::log10(hi) - std::log10(lo)) : (hi - v) / (hi - lo);
    return top + plot_h * f;
  };
  auto drawn = [&](double v) { return std::isfinite(v) && (!axes.log_y || v > 0); };
  char buf[320];
  std::string svg;
  std::snprintf(buf, sizeof buf,
                "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "role=\"img\" aria-label=\"%s\" data-scale=\"%s\">",
                width, height, width, height, html_escape(title).c_str(), axes.log_y ? "log" : "linear");
  svg += buf;
  std::snprintf(buf, sizeof buf, "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" class=\"title\">%s</text>", width / 2,
                html_escape(title).c_str());
  svg += buf;
  for (std::size_t k = 0; k < ticks.size(); ++k) {
    const double y = y_of(ticks[k]);
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"end\" class=\"tick y-tick\">%s</text>",
                  left, y, left + plot_w, y, left - 6, y + 4, labels[k].c_str());
    svg += buf;
  }
  std::snprintf(buf, sizeof buf,
                "<text transform=\"translate(12,%.1f) rotate(-90)\" text-anchor=\"middle\" class=\"tick axis-title\">%s</text>",
                top + plot_h / 2, html_escape(axes.y_label + (axes.log_y ? " (log scale)" : "")).c_str());
  svg += buf;
  const std::size_t x_step = std::max<std::size_t>(1, (points + 9) / 10);
  for (std::size_t i = 0; i < points; i += x_step) {
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tick x-tick\">%zu</text>",
                  x_of(i), top + plot_h + 16, i + 1);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick axis-title\">%s</text>",
                left + plot_w / 2, height - 4, html_escape(axes.x_label).c_str());
  svg += buf;
  double legend_x = left + 8;
  for (const auto& s : series) {
    std::string path;
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      if (!drawn(s.values[i])) continue;
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x_of(i), y_of(s.values[i]));
      path += buf;
    }
    svg += "<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\" points=\"" + path + "\" data-series=\"" +
           html_escape(s.name) + "\"/>";
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      if (!drawn(s.values[i])) continue;
      std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%s epoch %zu: %.6g</title></circle>",
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
