// Metrics and sinks on synthetic model results with known answers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "pipeline/registry.hpp"
#include "sink/console.hpp"
#include "sink/epoch_history.hpp"
#include "sink/history.hpp"
#include "sink/html_report.hpp"
#include "sink/metrics.hpp"
#include "sink/svg_chart.hpp"
#include "sink/tensorboard.hpp"
#include "support/files.hpp"
#include "support/null_emitter.hpp"
#include "support/params.hpp"

using namespace stages;
using testing_support::NullEmitter;
using testing_support::TempDir;

namespace {



BatchResult result(const std::string& stream, int epoch, std::vector<int> labels, std::vector<int> predicted, double loss,
                   double lr = 0.01) {
  BatchResult r;
  r.stream = stream;
  r.training = stream == "train";
  r.epoch = epoch;
  r.epochs = 2;
  r.loss = loss;
  r.learning_rate = lr;
  r.labels = std::move(labels);
  r.predicted = std::move(predicted);
  for (std::size_t i = 0; i < r.labels.size(); ++i) {
    r.indices.push_back(static_cast<std::int64_t>(i));
    r.correct += r.labels[i] == r.predicted[i];
  }
  r.probabilities = xt::zeros<float>({r.labels.size(), std::size_t{3}});
  for (std::size_t i = 0; i < r.labels.size(); ++i) r.probabilities(i, static_cast<std::size_t>(r.predicted[i])) = 0.9f;
  auto batch = std::make_shared<Batch>();
  batch->x = xt::zeros<float>({r.labels.size(), std::size_t{4}, std::size_t{4}, std::size_t{1}});
  for (std::size_t i = 0; i < batch->x.size(); ++i) batch->x.data()[i] = static_cast<float>(i % 16) / 16.0f;
  r.inputs = batch;
  return r;
}

// Two epochs: train accuracy 3/4 then 4/4; test (classes 0..2, class 2 never predicted) 2/4 then 3/4.
void feed(pipeline::Processor& sink) {
  NullEmitter out;
  for (int epoch = 0; epoch < 2; ++epoch) {
    sink.consume(pipeline::Payload::of(result("train", epoch, {0, 1, 2, 1}, {0, 1, epoch ? 2 : 1, 1}, 0.5 - 0.2 * epoch)), "train", out);
    sink.on_stream_end("train", epoch, out);
    sink.consume(pipeline::Payload::of(result("test", epoch, {0, 1, 2, 2}, {0, epoch ? 1 : 0, 0, 1}, 0.8 - 0.1 * epoch)), "test", out);
    sink.on_stream_end("test", epoch, out);
    sink.on_epoch_end(epoch, out);
  }
  sink.finish(false, out);
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

pipeline::RunContext context_in(const TempDir& dir) {
  pipeline::RunContext c;
  c.pipeline_name = "synthetic";
  c.config_file = "synthetic.yaml";
  c.config_text = "name: synthetic <&>\n";
  c.seed = 3;
  c.epochs = 2;
  c.threads = 2;
  c.output_dir = dir.path() / "out";
  return c;
}

}  // namespace

TEST(Metrics, PrecisionRecallF1AgainstHandComputedValues) {
  ConfusionMatrix m(3);
  // true 0: predicted 0,0,1; true 1: predicted 1,1; true 2: predicted 0,1 (class 2 never predicted)
  for (auto [t, p] : std::vector<std::pair<int, int>>{{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, {2, 0}, {2, 1}}) m.add(t, p);
  const auto s0 = m.scores(0), s1 = m.scores(1), s2 = m.scores(2);
  EXPECT_DOUBLE_EQ(s0.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s0.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s1.precision, 2.0 / 4);
  EXPECT_DOUBLE_EQ(s1.recall, 1.0);
  EXPECT_DOUBLE_EQ(s1.f1, 2 * 0.5 * 1.0 / 1.5);
  EXPECT_EQ(s2.precision, 0.0) << "no predictions: zero, not NaN";
  EXPECT_EQ(s2.f1, 0.0);
  EXPECT_EQ(s2.support, 2u);
  EXPECT_DOUBLE_EQ(m.accuracy(), 4.0 / 7);
  const std::string report = m.report();
  EXPECT_NE(report.find("           2     0.0000     0.0000     0.0000          2"), std::string::npos) << report;
  EXPECT_NE(report.find("    accuracy                           0.5714          7"), std::string::npos) << report;
  // macro precision (2/3 + 1/2 + 0) / 3 = 0.3889; weighted recall (3*2/3 + 2*1 + 0) / 7 = 0.5714
  EXPECT_NE(report.find("   macro avg     0.3889"), std::string::npos) << report;
  EXPECT_NE(report.find("weighted avg     0.4286     0.5714"), std::string::npos) << report;
  EXPECT_EQ(report.find("nan"), std::string::npos);
  EXPECT_NE(m.table().find("        2      1      1      0"), std::string::npos) << m.table();
  EXPECT_THROW(m.add(3, 0), std::out_of_range);
}

TEST(Console, EpochLinesReportAndNoCarriageReturnsWhenNotATerminal) {
  TempDir dir;
  std::FILE* out = std::fopen(dir.file("console.txt").c_str(), "w+");
  ConsoleSink sink(params_for("console", "{log_every: 1}"), out);
  pipeline::RunContext context = context_in(dir);
  sink.prepare(context);
  feed(sink);
  std::fclose(out);
  const std::string text = read(dir.file("console.txt"));
  EXPECT_EQ(text.find('\r'), std::string::npos) << "a file is not a terminal: no progress bar";
  EXPECT_NE(text.find("  train batch 1 - "), std::string::npos) << text;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(text, m, std::regex(
      "Epoch 1/2 - [0-9.]+s - loss: 0.5000 - accuracy: 0.7500 - val_loss: 0.8000 - val_accuracy: 0.2500\n")))
      << text;
  EXPECT_TRUE(std::regex_search(text, m, std::regex(
      "Epoch 2/2 - [0-9.]+s - loss: 0.3000 - accuracy: 1.0000 - val_loss: 0.7000 - val_accuracy: 0.5000\n")))
      << text;
  EXPECT_NE(text.find("Classification report (test, epoch 2)"), std::string::npos);
  EXPECT_NE(text.find("Confusion matrix"), std::string::npos);
}

TEST(History, CsvInCsvLoggerLayoutAndJsonWithRunInformation) {
  TempDir dir;
  HistorySink sink(params_for("history", "{save_predictions: true}"));
  sink.prepare(context_in(dir));
  feed(sink);
  const std::string csv = read(dir.file("out/history.csv"));
  std::istringstream lines(csv);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header, "epoch,accuracy,loss,val_accuracy,val_loss,lr,seconds");
  // Full precision, as CSVLogger's repr(float): 0.8 - 0.1 is not 0.7.
  EXPECT_EQ(first.substr(0, first.rfind(',') + 1), "0,0.75,0.5,0.25,0.8,0.01,");
  EXPECT_EQ(second.substr(0, second.rfind(',') + 1), "1,1,0.3,0.5,0.7000000000000001,0.01,");
  const std::string json = read(dir.file("out/history.json"));
  for (const char* needle : {"\"name\": \"synthetic\"", "\"seed\": 3", "\"finished\": true", "\"val_accuracy\": 0.5",
                             "\"config\": \"name: synthetic <&>\\n\"", "\"pipeline\": \"0.1.0\"", "\"support\": 2",
                             "\"confusion_matrix\": ["})
    EXPECT_NE(json.find(needle), std::string::npos) << needle << "\n" << json;
  const std::string predictions = read(dir.file("out/predictions.csv"));
  EXPECT_EQ(predictions.substr(0, 44), "stream,index,label,predicted,p0,p1,p2\ntest,0");
  EXPECT_EQ(std::count(predictions.begin(), predictions.end(), '\n'), 5) << "header and the last epoch's 4 rows";
}

// Epoch 0 of feed(), then the sink's state as a durable run saves it.
std::string state_after_first_epoch(pipeline::Processor& sink) {
  NullEmitter out;
  sink.consume(pipeline::Payload::of(result("train", 0, {0, 1, 2, 1}, {0, 1, 1, 1}, 0.5)), "train", out);
  sink.on_stream_end("train", 0, out);
  sink.consume(pipeline::Payload::of(result("test", 0, {0, 1, 2, 2}, {0, 0, 0, 1}, 0.8)), "test", out);
  sink.on_stream_end("test", 0, out);
  sink.on_epoch_end(0, out);
  EXPECT_FALSE(sink.save_state(true).has_value()) << "mid-epoch, sinks rely on the model's replay";
  return *sink.save_state(false);
}

std::string without_seconds(const std::string& csv) {
  std::string out;
  std::istringstream lines(csv);
  for (std::string line; std::getline(lines, line);) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

TEST(History, RestoredStateRewritesTheFilesAndEndsAsAnUninterruptedRun) {
  TempDir straight, resumed;
  HistorySink whole(params_for("history", "{save_predictions: true}"));
  whole.prepare(context_in(straight));
  feed(whole);
  HistorySink first(params_for("history", "{save_predictions: true}"));
  first.prepare(context_in(resumed));
  const std::string state = state_after_first_epoch(first);
  // The killed run got further than its saved state: its files hold a second row that must go.
  NullEmitter out;
  first.consume(pipeline::Payload::of(result("train", 1, {0}, {0}, 0.1)), "train", out);
  first.on_epoch_end(1, out);
  HistorySink second(params_for("history", "{save_predictions: true}"));
  auto context = context_in(resumed);
  context.resuming = true;
  second.prepare(context);
  second.restore_state(state);
  const std::string rewritten = read(resumed.file("out/history.csv"));
  EXPECT_EQ(std::count(rewritten.begin(), rewritten.end(), '\n'), 2) << "header and epoch 1's row only";
  second.continue_from(1);
  second.consume(pipeline::Payload::of(result("train", 1, {0, 1, 2, 1}, {0, 1, 2, 1}, 0.5 - 0.2)), "train", out);
  second.on_stream_end("train", 1, out);
  second.consume(pipeline::Payload::of(result("test", 1, {0, 1, 2, 2}, {0, 1, 0, 1}, 0.8 - 0.1)), "test", out);
  second.on_stream_end("test", 1, out);
  second.on_epoch_end(1, out);
  second.finish(false, out);
  EXPECT_EQ(without_seconds(read(resumed.file("out/history.csv"))), without_seconds(read(straight.file("out/history.csv"))));
  EXPECT_EQ(read(resumed.file("out/predictions.csv")), read(straight.file("out/predictions.csv")));
  HistorySink damaged(params_for("history", ""));
  damaged.prepare(context);
  EXPECT_THROW(damaged.restore_state(state.substr(0, state.size() - 3)), pipeline::StateError);
}

TEST(TensorBoard, RestoredStateTruncatesWhatWasAppendedAfterIt) {
  TempDir dir;
  TensorBoardSink first(params_for("tensorboard", ""));
  first.prepare(context_in(dir));
  const std::string state = state_after_first_epoch(first);
  std::map<std::string, std::string> saved;
  for (const auto& run : {"train", "validation"})
    for (const auto& f : std::filesystem::directory_iterator(dir.path() / "out/logs" / run)) saved[run] = read(f.path().string());
  NullEmitter out;
  first.consume(pipeline::Payload::of(result("train", 1, {0}, {0}, 0.1)), "train", out);
  first.on_epoch_end(1, out);  // appended after the saved state: a resumed run must drop it
  TensorBoardSink second(params_for("tensorboard", ""));
  auto context = context_in(dir);
  context.resuming = true;
  second.prepare(context);
  second.restore_state(state);
  for (const auto& run : {"train", "validation"}) {
    std::size_t files = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir.path() / "out/logs" / run)) {
      ++files;
      EXPECT_EQ(read(f.path().string()), saved[run]) << run;
    }
    EXPECT_EQ(files, 1u) << run;
  }
  // A new (not resumed) run in the folder replaces the earlier run's event files.
  TensorBoardSink fresh(params_for("tensorboard", ""));
  fresh.prepare(context_in(dir));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() / "out/logs/train"));
  // A logdir outside the run's output folder may be shared with other runs: nothing there is removed.
  TempDir shared;
  const std::string custom = "{logdir: " + shared.path().string() + "}";
  TensorBoardSink other_run(params_for("tensorboard", custom));
  other_run.prepare(context_in(dir));
  state_after_first_epoch(other_run);
  TensorBoardSink next_run(params_for("tensorboard", custom));
  next_run.prepare(context_in(dir));
  EXPECT_FALSE(std::filesystem::is_empty(shared.path() / "train")) << "another run's event files kept";
}

TEST(History, UnwritableOutputFolderFailsBeforeTraining) {
  TempDir dir;
  std::ofstream(dir.file("file")) << "x";
  HistorySink sink(params_for("history", "{csv: " + dir.file("file") + "/sub/history.csv}"));
  EXPECT_THROW(sink.prepare(context_in(dir)), std::runtime_error);
}

TEST(TensorBoard, RecordFramingAndCrc32c) {
  // CRC-32C check value from RFC 3720: "123456789" → 0xE3069283.
  const std::string digits = "123456789";
  EXPECT_EQ(crc32c(reinterpret_cast<const std::uint8_t*>(digits.data()), digits.size()), 0xE3069283u);
  const std::string record = tfrecord("abc");
  ASSERT_EQ(record.size(), 8u + 4 + 3 + 4);
  EXPECT_EQ(record[0], 3);
  EXPECT_EQ(record.substr(12, 3), "abc");
}

TEST(TensorBoard, WritesTrainAndValidationRuns) {
  TempDir dir;
  TensorBoardSink sink(params_for("tensorboard", ""));
  sink.prepare(context_in(dir));
  feed(sink);
  int files = 0;
  for (const auto& run : {"train", "validation"})
    for (const auto& f : std::filesystem::directory_iterator(dir.path() / "out/logs" / run)) {
      ++files;
      EXPECT_EQ(f.path().filename().string().rfind("events.out.tfevents.", 0), 0u);
      const std::string bytes = read(f.path().string());
      EXPECT_NE(bytes.find("brain.Event:2"), std::string::npos);
      EXPECT_NE(bytes.find("epoch_accuracy"), std::string::npos);
    }
  EXPECT_EQ(files, 2);
}

TEST(HtmlReport, SelfContainedWithChartsTablesImagesAndProfile) {
  TempDir dir;
  HtmlReportSink sink(params_for("html_report", "{max_images: 2}"));
  pipeline::RunContext context = context_in(dir);
  context.profile = [] {
    pipeline::Profile p;
    p.wall_seconds = 2;
    p.stages.push_back({"model", "sequential", false, 10, 10, 1.5});
    return p;
  };
  sink.prepare(context);
  feed(sink);
  const std::string html = read(dir.file("out/report.html"));
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no network resources";
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(std::count(html.begin(), html.end(), '<') > 100, true);
  EXPECT_NE(html.find("<svg class=\"chart\""), std::string::npos);
  EXPECT_NE(html.find("data-series=\"val_loss\""), std::string::npos);
  EXPECT_NE(html.find("id=\"confusion\""), std::string::npos);
  EXPECT_NE(html.find("Misclassified test images (2 of 2)"), std::string::npos) << "epoch 2 got two test images wrong";
  EXPECT_NE(html.find("src=\"data:image/png;base64,iVBORw0KGgo"), std::string::npos) << "an embedded PNG";
  EXPECT_NE(html.find("<td>model</td><td>sequential</td><td>10</td>"), std::string::npos);
  EXPECT_NE(html.find("name: synthetic &lt;&amp;&gt;"), std::string::npos) << "config escaped";
}

TEST(ClassNames, ReportsConfusionMatrixPredictionsAndHtmlUseThem) {
  TempDir dir;
  auto context = context_in(dir);
  context.class_names = {"cat", "dog, big", "bird"};
  HistorySink history(params_for("history", "{save_predictions: true}"));
  history.prepare(context);
  feed(history);
  const std::string predictions = read(dir.file("out/predictions.csv"));
  EXPECT_EQ(predictions.substr(0, predictions.find('\n')),
            "stream,index,label,predicted,label_name,predicted_name,p0,p1,p2");
  EXPECT_NE(predictions.find("test,2,2,0,bird,cat,"), std::string::npos) << predictions;
  EXPECT_NE(predictions.find("test,1,1,1,\"dog, big\",\"dog, big\","), std::string::npos) << "quoted as CSV";
  const std::string json = read(dir.file("out/history.json"));
  EXPECT_NE(json.find("\"name\": \"bird\""), std::string::npos) << json;
  ConfusionMatrix m(3);
  m.add(0, 0);
  m.add(2, 1);
  const std::string report = m.report(4, context.class_names);
  EXPECT_NE(report.find("        bird     0.0000"), std::string::npos) << report;
  EXPECT_NE(report.find("   macro avg"), std::string::npos) << report;
  EXPECT_NE(m.table(context.class_names).find("    bird      0      1      0"), std::string::npos)
      << m.table(context.class_names);
  HtmlReportSink html(params_for("html_report", ""));
  html.prepare(context);
  feed(html);
  const std::string page = read(dir.file("out/report.html"));
  EXPECT_NE(page.find("<th>dog, big</th>"), std::string::npos);
  EXPECT_NE(page.find("<th>weighted avg</th>"), std::string::npos);
  EXPECT_NE(page.find("true bird → cat"), std::string::npos);
}

TEST(Charts, TicksOnRoundNumbersWithTheirOwnPrecision) {
  using stages::nice_ticks;
  EXPECT_EQ(nice_ticks(0.0, 1.0, false), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(nice_ticks(0.0095, 0.0302, false).size(), 5u);  // 0.010 .. 0.030 by 0.005
  EXPECT_NEAR(nice_ticks(0.0095, 0.0302, false)[0], 0.01, 1e-12);
  EXPECT_EQ(nice_ticks(0.01, 10, true), (std::vector<double>{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}));
  EXPECT_EQ(stages::tick_text(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(stages::tick_text(0.015, 0.005), "0.015");
  EXPECT_EQ(stages::tick_text(-1e-17, 0.2), "0.0") << "no -0.0";
  EXPECT_EQ(stages::tick_text(250, 50), "250");
}

TEST(Charts, AccuracyStaysAtMostOneAndSmallLossesKeepShortLabels) {
  stages::ChartAxes accuracy;
  accuracy.y_label = "accuracy";
  accuracy.y_floor = 0, accuracy.y_ceiling = 1;
  const std::string a = stages::svg_line_chart("accuracy", accuracy, {{"val_accuracy", "#000", {0.97, 0.985, 0.999}}});
  std::vector<double> ticks;
  const std::regex tick(R"re(class="tick y-tick">([^<]*)<)re");
  for (auto it = std::sregex_iterator(a.begin(), a.end(), tick); it != std::sregex_iterator(); ++it)
    ticks.push_back(std::stod((*it)[1]));
  ASSERT_GE(ticks.size(), 3u);
  EXPECT_LE(ticks.back(), 1.0);
  EXPECT_GE(ticks.back(), 0.999);
  stages::ChartAxes loss;
  loss.y_label = "loss";
  loss.y_floor = 0;
  const std::string l = stages::svg_line_chart("loss", loss, {{"loss", "#000", {0.0302, 0.0121, 0.009741}}});
  EXPECT_EQ(l.find("y-tick\">0.009741<"), std::string::npos) << "ticks are round numbers, not data values";
  // 0.005 to 0.035 by 0.005: the axis starts and ends on a labelled tick, below the lowest point.
  EXPECT_NE(l.find("y-tick\">0.005<"), std::string::npos) << l;
  EXPECT_NE(l.find("y-tick\">0.035<"), std::string::npos) << l;
  loss.log_y = true;
  const std::string g = stages::svg_line_chart("loss", loss, {{"loss", "#000", {2.3, 0.12, 0.009741}}});
  EXPECT_NE(g.find("data-scale=\"log\""), std::string::npos);
  EXPECT_NE(g.find("y-tick\">0.001<"), std::string::npos) << g;
  EXPECT_NE(g.find("y-tick\">10<"), std::string::npos) << g;
  EXPECT_NE(g.find("loss (log scale)"), std::string::npos);
}

// Sinks may run late (with one thread, the model keeps it busy): an epoch's time comes from when the model had its
// results, not from when the sink saw the epoch end.
TEST(EpochHistory, EpochTimesComeFromTheModelsClockNotTheSinks) {
  stages::EpochHistory history("train");
  history.start();
  const auto t0 = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto first = result("train", 0, {0, 1}, {0, 1}, 0.5);
  first.finished = t0;
  history.add(first);
  ASSERT_TRUE(history.close_epoch());
  auto second = result("train", 1, {0, 1}, {0, 1}, 0.4);
  second.finished = t0 + std::chrono::milliseconds(2500);
  history.add(second);
  ASSERT_TRUE(history.close_epoch());  // both closed "now", long before t0
  EXPECT_GT(history.rows()[0].seconds, 4.9);
  EXPECT_DOUBLE_EQ(history.rows()[1].seconds, 2.5);
}

TEST(Console, ARunResumedAfterItsLastEpochStillPrintsTheReport) {
  TempDir dir;
  std::FILE* lines = std::fopen(dir.file("first.txt").c_str(), "w");
  ConsoleSink first(params_for("console", ""), lines);
  first.prepare(context_in(dir));
  NullEmitter out;
  for (int epoch = 0; epoch < 2; ++epoch) {
    first.consume(pipeline::Payload::of(result("test", epoch, {0, 1, 2, 2}, {0, 1, 0, 1}, 0.8)), "test", out);
    first.on_stream_end("test", epoch, out);
    first.on_epoch_end(epoch, out);
  }
  const std::string state = *first.save_state(false);
  std::fclose(lines);
  std::FILE* file = std::fopen(dir.file("console.txt").c_str(), "w+");
  ConsoleSink resumed(params_for("console", ""), file);
  resumed.prepare(context_in(dir));
  resumed.restore_state(state);
  resumed.finish(false, out);
  std::fclose(file);
  const std::string text = read(dir.file("console.txt"));
  EXPECT_NE(text.find("Classification report (test, epoch 2)"), std::string::npos) << text;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(text, m, std::regex("accuracy +0.5000 +4\n"))) << "the last epoch's 2 of 4: " << text;
}
