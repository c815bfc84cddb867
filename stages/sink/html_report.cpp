#include "sink/html_report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "common/output_file.hpp"
#include "common/png.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/version.hpp"
#include "sink/layer_graph_svg.hpp"
#include "sink/svg_chart.hpp"

namespace stages {
namespace {

const char* kStyle = R"(
body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;text-align:right;border:1px solid #e4e4e4}
th{background:#f5f5f5}.summary td:first-child{text-align:left;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart .title{font-size:14px;font-weight:600}
.chart .tick{font-size:11px;fill:#555}.chart .grid{stroke:#eee}
.confusion td{width:34px;text-align:center}
.model{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}.layers td:first-child{text-align:left}
.layers td:last-child{text-align:left;color:#555}
.grid-images{display:flex;flex-wrap:wrap;gap:8px}.grid-images figure{margin:0;text-align:center;font-size:11px}
.grid-images img{width:56px;height:56px;image-rendering:pixelated;border:1px solid #ccc}
pre{background:#f7f7f7;padding:10px;font-size:12px;overflow:auto}
)";

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

HtmlReportSink::HtmlReportSink(const pipeline::Params& p)
    : path_param_(p.get_string("path")),
      max_images_(static_cast<std::size_t>(p.get_int("max_images"))),
      log_loss_(p.get_bool("log_loss")),
      history_(p.get_string("train_stream")) {}

std::vector<std::filesystem::path> HtmlReportSink::output_files(const std::filesystem::path& output_dir) const {
  return {output_path(path_param_, output_dir, "report.html")};
}

void HtmlReportSink::prepare(const pipeline::RunContext& context) {
  context_ = context;
  path_ = output_path(path_param_, context.output_dir, "report.html");
  ensure_writable_folder(path_);
  history_.start();
}

void HtmlReportSink::consume(const pipeline::Payload& input, std::string_view, pipeline::Emitter&) {
  const auto& r = input.get<BatchResult>();
  history_.add(r);
  if (model_section_.empty() && r.model)
    model_section_ = "<h2>Model</h2><div class=\"model\">" + html_layer_table(*r.model) + svg_layer_graph(*r.model) + "</div>\n";
  if (r.training || !r.inputs) return;
  const Batch& batch = *r.inputs;
  const std::size_t h = batch.x.shape()[1], w = batch.x.shape()[2], c = batch.x.shape()[3];
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.predicted[i] == r.labels[i] || r.labels[i] == kUnlabeled) continue;
    ++wrong_count_;
    if (wrong_.size() >= max_images_) continue;
    // Back to 0..255 whatever scaling the pipeline used: stretch each image's range (first channel).
    const float* x = batch.x.data() + i * h * w * c;
    float lo = x[0], hi = x[0];
    for (std::size_t p = 0; p < h * w; ++p) lo = std::min(lo, x[p * c]), hi = std::max(hi, x[p * c]);
    std::vector<std::uint8_t> pixels(h * w);
    for (std::size_t p = 0; p < h * w; ++p)
      pixels[p] = static_cast<std::uint8_t>(hi > lo ? 255.0f * (x[p * c] - lo) / (hi - lo) : 0.0f);
    Misclassified m;
    m.index = r.indices[i];
    m.label = r.labels[i];
    m.predicted = r.predicted[i];
    m.confidence = r.probabilities(i, static_cast<std::size_t>(r.predicted[i]));
    m.png = encode_png_gray(pixels.data(), static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h));
    wrong_.push_back(std::move(m));
  }
}

void HtmlReportSink::on_epoch_end(int, pipeline::Emitter&) {
  if (!history_.close_epoch()) return;
  if (wrong_count_ > 0 || !wrong_.empty()) {
    last_wrong_.swap(wrong_);
    last_wrong_count_ = wrong_count_;
  }
  wrong_.clear();
  wrong_count_ = 0;
}

std::optional<std::string> HtmlReportSink::save_state(bool mid_epoch) {
  if (mid_epoch) return std::nullopt;  // the model replays the interrupted epoch's results to us
  pipeline::StateWriter w;
  history_.save(w);
  w.u64(last_wrong_count_).u64(last_wrong_.size());
  for (const Misclassified& m : last_wrong_)
    w.i64(m.index).i64(m.label).i64(m.predicted).f64(m.confidence).str(m.png);
  w.str(model_section_);
  return w.take();
}

void HtmlReportSink::restore_state(const std::string& state) {
  pipeline::StateReader r(state);
  history_.load(r);
  last_wrong_count_ = r.u64();
  last_wrong_.clear();
  for (std::size_t n = r.count(40); n > 0; --n) {
    Misclassified m;
    m.index = r.i64();
    m.label = static_cast<int>(r.i64());
    m.predicted = static_cast<int>(r.i64());
    m.confidence = static_cast<float>(r.f64());
    m.png = r.str();
    last_wrong_.push_back(std::move(m));
  }
  model_section_ = r.remaining() > 0 ? r.str() : "";  // earlier builds saved none
  r.expect_end();
}

std::string HtmlReportSink::render(const pipeline::Profile& profile, bool interrupted) const {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     html_escape(context_.pipeline_name) + " report</title><style>" + kStyle + "</style></head><body>\n";
  html += "<h1>" + html_escape(context_.pipeline_name) + "</h1>\n";
  char when[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  const auto& rows = history_.rows();
  html += "<h2>Summary</h2><table class=\"summary\" id=\"summary\">";
  auto row = [&](const std::string& k, const std::string& v) { html += "<tr><td>" + k + "</td><td>" + html_escape(v) + "</td></tr>"; };
  row("finished", std::string(when) + (interrupted ? " (interrupted)" : ""));
  row("config", context_.config_file);
  row("seed", std::to_string(context_.seed));
  row("epochs", std::to_string(rows.size()) + " of " + std::to_string(context_.epochs));
  row("threads", std::to_string(context_.threads));
  row("pipeline", pipeline::version());
  for (const auto& line : pipeline::version_lines()) row("build", line);
  if (!rows.empty())
    for (const auto& name : history_.metric_names()) row("final " + name, fmt("%.4f", history_.metric(rows.back(), name)));
  row("wall time", fmt("%.1f s", profile.wall_seconds));
  html += "</table>\n";

  html += "<h2>Training curves</h2><div class=\"charts\" id=\"charts\">";
  const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
  for (const char* metric : {"loss", "accuracy"}) {
    std::vector<Series> series;
    std::size_t color = 0;
    for (const auto& name : history_.metric_names()) {
      const bool match = name == metric || (name.size() > std::string(metric).size() + 1 &&
                                            name.compare(name.size() - std::string(metric).size(), std::string::npos, metric) == 0 &&
                                            name[name.size() - std::string(metric).size() - 1] == '_');
      if (!match) continue;
      Series s{name, colors[color++ % 4], {}};
      for (const auto& r : rows) s.values.push_back(history_.metric(r, name));
      series.push_back(std::move(s));
    }
    ChartAxes axes;
    axes.y_label = metric;
    if (std::string(metric) == "accuracy") axes.y_floor = 0, axes.y_ceiling = 1;
    if (std::string(metric) == "loss") axes.y_floor = 0, axes.log_y = log_loss_;
    html += svg_line_chart(metric, axes, series);
  }
  html += "</div>\n";
  html += model_section_;

  auto label = [&](std::size_t k) { return html_escape(class_label(k, context_.class_names)); };
  for (const auto& [stream, matrix] : history_.last_confusion()) {
    html += "<h2>Confusion matrix (" + html_escape(stream) + ", last epoch)</h2>";
    html += "<table class=\"confusion\" id=\"confusion\"><tr><th>true \\ predicted</th>";
    for (std::size_t k = 0; k < matrix.classes(); ++k) html += "<th>" + label(k) + "</th>";
    html += "</tr>";
    for (std::size_t t = 0; t < matrix.classes(); ++t) {
      std::uint64_t row_total = 0;
      for (std::size_t p = 0; p < matrix.classes(); ++p) row_total += matrix.at(t, p);
      html += "<tr><th>" + label(t) + "</th>";
      for (std::size_t p = 0; p < matrix.classes(); ++p) {
        const double share = row_total ? static_cast<double>(matrix.at(t, p)) / static_cast<double>(row_total) : 0.0;
        // Diagonal in blue, confusions in red, both by share of the true class; sqrt keeps small counts visible.
        const double a = std::sqrt(share);
        const std::string color = t == p ? "rgba(31,119,180," + fmt("%.3f", a) + ")" : "rgba(214,39,40," + fmt("%.3f", std::min(1.0, 3 * a)) + ")";
        html += "<td style=\"background:" + color + "\" title=\"true " + label(t) + ", predicted " + label(p) +
                "\">" + std::to_string(matrix.at(t, p)) + "</td>";
      }
      html += "</tr>";
    }
    html += "</table>\n<h2>Per-class metrics (" + html_escape(stream) + ")</h2><table class=\"classes\" id=\"classes\">"
            "<tr><th>class</th><th>precision</th><th>recall</th><th>f1-score</th><th>support</th></tr>";
    // The first cell: a class (td) or a summary row (th), as scikit-learn's classification_report.
    auto scores_row = [&](const std::string& first_cell, const ClassScores& s) {
      html += "<tr>" + first_cell + "<td>" + fmt("%.4f", s.precision) + "</td><td>" + fmt("%.4f", s.recall) +
              "</td><td>" + fmt("%.4f", s.f1) + "</td><td>" + std::to_string(s.support) + "</td></tr>";
    };
    for (std::size_t k = 0; k < matrix.classes(); ++k) scores_row("<td>" + label(k) + "</td>", matrix.scores(k));
    html += "<tr><th>accuracy</th><td></td><td></td><td>" + fmt("%.4f", matrix.accuracy()) + "</td><td>" +
            std::to_string(matrix.total()) + "</td></tr>";
    scores_row("<th>macro avg</th>", matrix.macro_average());
    scores_row("<th>weighted avg</th>", matrix.weighted_average());
    html += "</table>\n";
  }

  html += "<h2>Misclassified test images (" + std::to_string(last_wrong_.size()) + " of " + std::to_string(last_wrong_count_) +
          ")</h2><div class=\"grid-images\" id=\"misclassified\">";
  for (const auto& m : last_wrong_)
    html += "<figure><img alt=\"test image " + std::to_string(m.index) + "\" src=\"data:image/png;base64," + base64(m.png) +
            "\"><figcaption>#" + std::to_string(m.index) + "<br>true " + label(static_cast<std::size_t>(m.label)) +
            " → " + label(static_cast<std::size_t>(m.predicted)) + " (" + fmt("%.0f%%", 100.0 * m.confidence) +
            ")</figcaption></figure>";
  html += "</div>\n";

  html += "<h2>Pipeline profile</h2><table id=\"profile\"><tr><th>stage</th><th>type</th><th>items in</th><th>items out</th>"
          "<th>busy s</th><th>busy % of wall</th></tr>";
  for (const auto& s : profile.stages)
    html += "<tr><td>" + html_escape(s.name) + "</td><td>" + html_escape(s.type) + "</td><td>" + std::to_string(s.items_in) +
            "</td><td>" + std::to_string(s.items_out) + "</td><td>" + fmt("%.2f", s.busy_seconds) + "</td><td>" +
            fmt("%.1f%%", profile.wall_seconds > 0 ? 100 * s.busy_seconds / profile.wall_seconds : 0.0) + "</td></tr>";
  html += "</table>\n<h2>Config</h2><pre id=\"config\">" + html_escape(context_.config_text) + "</pre>\n";
  // Marks the page as rendered with what it holds: the browser test reads these from the live DOM.
  html += "<script>document.body.dataset.charts=document.querySelectorAll('svg.chart polyline').length;"
          "document.body.dataset.images=[...document.images].filter(i=>i.complete&&i.naturalWidth>0).length;"
          // Tick labels drawn outside their chart (cut off by its edge), as laid out by the browser.
          "document.body.dataset.clippedLabels=[...document.querySelectorAll('svg.chart text')].filter(t=>{"
          "const b=t.getBoundingClientRect(),s=t.ownerSVGElement.getBoundingClientRect();return b.left<s.left-0.5||"
          "b.top<s.top-0.5||b.right>s.right+0.5||b.bottom>s.bottom+0.5}).length;</script>\n";
  return html + "</body></html>\n";
}

void HtmlReportSink::finish(bool interrupted, pipeline::Emitter&) {
  const pipeline::Profile profile = context_.profile ? context_.profile() : pipeline::Profile{};
  write_file_atomically(path_, render(profile, interrupted));
}

static pipeline::StageSpec html_report_spec() {
  using namespace pipeline;
  StageSpec spec;
  spec.type = "html_report";
  spec.summary = "Sink: one self-contained HTML report (curves, confusion matrix, per-class table, misclassified "
                 "images, pipeline profile, config); viewable offline.";
  spec.kind = StageKind::Processor;
  spec.input = kBatchResultType;
  spec.params = {
      string_param("path", "", "report path (default <output_dir>/report.html)"),
      int_param("max_images", 100, "at most this many misclassified images").min(0).max(10000),
      bool_param("log_loss", false, "draw the loss chart on a log scale (late epochs' small changes stay visible)"),
      string_param("train_stream", "train", "the stream whose metrics have no val_ prefix"),
  };
  spec.create = [](const Params& p) { return std::make_unique<HtmlReportSink>(p); };
  return spec;
}

}  // namespace stages

PIPELINE_REGISTER_STAGE(stages::html_report_spec())
