#include "pipeline/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <optional>
#include <vector>

#include "pipeline/communicator.hpp"
#include "pipeline/files.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/plugins.hpp"
#include "pipeline/templates.hpp"
#include "pipeline/version.hpp"

namespace pipeline {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

const char* kUsage =
    "usage: pipeline <command> [options]\n"
    "\n"
    "commands:\n"
    "  run CONFIG [--set KEY=VALUE]... [--threads N] [--profile] [--resume]\n"
    "                        validate CONFIG, then run it; --resume continues a stopped or killed run\n"
    "                        from <output_dir>/run.state (saved at the end of every epoch)\n"
    "  validate CONFIG [--set KEY=VALUE]...\n"
    "                        check CONFIG without running it (types, parameters, wiring)\n"
    "  stages [TYPE]         list every stage type with its parameters, defaults and docs, and where it\n"
    "                        comes from (built in, or a plugin)\n"
    "  graph CONFIG          print the wired pipeline as Graphviz DOT (pipe into `dot -Tsvg`)\n"
    "  export CONFIG -o FILE [--checkpoint PATH] [--format F] [--stage NAME] [--set KEY=VALUE]...\n"
    "                        write what a run of CONFIG trained in another format, e.g. the model as ONNX\n"
    "                        (-o model.onnx; the format from the extension unless --format); the weights come from\n"
    "                        --checkpoint, else from where the run saves them (<output_dir>/model.ckpt)\n"
    "  init [TEMPLATE] [-o FILE]\n"
    "                        write a commented starter config (default template: classifier; --list\n"
    "                        shows them) to FILE or to the standard output\n"
    "  --help, --version\n"
    "every command takes --plugin PATH (repeatable): a plugin library of stages and layers to load first, as a\n"
    "config's `plugins: [PATH]` does; bare names are looked up in $PIPELINE_PLUGIN_PATH\n"
    "\n"
    "KEY is STAGE.PARAM (STAGE.PARAM.SUB for maps), vars.NAME, or a top-level setting\n"
    "(seed, epochs, threads, buffer, chunk, output_dir, name, save_every, class_names, plugins). VALUE is YAML:\n"
    "0.01, true, [1, 2].\n"
    "exit codes: 0 ok, 1 runtime failure, 2 bad usage or config, 130 interrupted\n"
    "\n"
    "a config file (YAML):\n"
    "  name: my_run                  # the run's name; outputs go to output_dir (default runs/<name>)\n"
    "  seed: 42                      # everything random derives from it\n"
    "  epochs: 20                    # also threads (0 = all cores), buffer, save_every, class_names\n"
    "  vars: {data_dir: data/mnist}  # ${data_dir} anywhere below (${name} too)\n"
    "  stages:                       # NAME: {type: TYPE, inputs: [NAMES], PARAMETER: VALUE, ...}\n"
    "    train_data: {type: idx_reader, images: ${data_dir}/train-images-idx3-ubyte.gz, labels: ...}\n"
    "    scale: {type: scale, inputs: [train_data]}\n"
    "    onehot: {type: one_hot, inputs: [scale]}\n"
    "    batches: {type: shuffle_batcher, inputs: [onehot], batch_size: 128}\n"
    "    model: {type: sequential, inputs: [batches], layers: [...], optimizer: {type: sgd}}\n"
    "    console: {type: console, inputs: [model]}\n"
    "  `pipeline stages` lists every TYPE with its parameters; `pipeline init` writes a full example.\n";

struct Args {
  std::string command;
  std::string config;
  std::vector<std::string> overrides;
  int threads = 0;
  bool profile = false;
  bool resume = false;
  std::vector<std::string> plugins;  // --plugin PATH
  std::string output, checkpoint, format, stage;  // export
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// This rank ends with `code`; its message, if any, was printed already (see build_on_every_rank).
struct RankExit {
  int code;
};

Args parse_args(int argc, char** argv) {
  Args args;
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) throw UsageError("no command given");
  args.command = words[0];
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto value = [&](const std::string& flag) -> std::string {
      if (i + 1 >= words.size()) throw UsageError(flag + " needs a value");
      return words[++i];
    };
    if (w == "--set") {
      args.overrides.push_back(value(w));
    } else if (w.rfind("--set=", 0) == 0) {
      args.overrides.push_back(w.substr(6));
    } else if (w == "--threads") {
      const std::string v = value(w);
      try {
        std::size_t used = 0;
        args.threads = std::stoi(v, &used);
        if (used != v.size() || args.threads < 1) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        throw UsageError("--threads needs a positive integer, got '" + v + "'");
      }
    } else if (w == "--plugin") {
      args.plugins.push_back(value(w));
    } else if (args.command == "export" && (w == "-o" || w == "--output")) {
      args.output = value(w);
    } else if (args.command == "export" && w == "--checkpoint") {
      args.checkpoint = value(w);
    } else if (args.command == "export" && w == "--format") {
      args.format = value(w);
    } else if (args.command == "export" && w == "--stage") {
      args.stage = value(w);
    } else if (w == "--profile") {
      args.profile = true;
    } else if (w == "--resume") {
      args.resume = true;
    } else if (!w.empty() && w[0] == '-') {
      throw UsageError("unknown option '" + w + "'");
    } else if (args.config.empty()) {
      args.config = w;
    } else {
      throw UsageError("unexpected argument '" + w + "'");
    }
  }
  return args;
}

void print_version() {
  std::cout << "pipeline " << version() << "\n";
  for (const auto& line : version_lines()) std::cout << line << "\n";
}

// `pipeline init [TEMPLATE] [-o FILE]`: never overwrites a file.
int init(int argc, char** argv) {
  std::string name = "classifier", file;
  for (int i = 2; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--list") {
      for (const auto& t : config_templates()) std::cout << t.name << "  " << t.summary << "\n";
      return kExitOk;
    }
    if (word == "-o" || word == "--output") {
      if (i + 1 >= argc) throw UsageError(word + " needs a file name");
      file = argv[++i];
    } else if (!word.empty() && word[0] == '-') {
      throw UsageError("unknown option '" + word + "' for init");
    } else {
      name = word;
    }
  }
  const ConfigTemplate* chosen = nullptr;
  std::vector<std::string> names;
  for (const auto& t : config_templates()) {
    names.push_back(t.name);
    if (t.name == name) chosen = &t;
  }
  if (chosen == nullptr) {
    const std::string hint = closest_match(name, names);
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw UsageError("no template '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                     "; templates: " + known);
  }
  if (file.empty()) {
    std::cout << chosen->text;
    return kExitOk;
  }
  if (std::filesystem::exists(file)) throw UsageError(file + " exists; init does not overwrite files");
  write_file_atomically(file, chosen->text);
  std::cout << "wrote " << file << " (template '" << chosen->name << "'); check it with: pipeline validate " << file
            << "\n";
  return kExitOk;
}

int list_stages(const std::string& only) {
  const Registry& registry = Registry::instance();
  bool found = false;
  for (const StageSpec* spec : registry.all()) {
    if (!only.empty() && spec->type != only) continue;
    found = true;
    std::cout << spec->type << "  (" << to_string(spec->kind)
              << (spec->kind == StageKind::Transform && spec->parallel ? ", parallel" : "")
              << (spec->origin.empty() ? ", built in" : ", plugin " + spec->origin) << ")\n";
    std::cout << "  " << spec->summary << "\n";
    std::cout << "  consumes: " << (spec->input.empty() ? "-" : spec->input)
              << "   produces: " << (spec->output.empty() ? "-" : spec->output == kSameType ? "(same as input)" : spec->output)
              << "\n";
    std::cout << describe_params(spec->params, "    ");
    if (spec->details) std::cout << spec->details();
    std::cout << "\n";
  }
  if (!found) {
    std::string hint = closest_match(only, registry.names());
    std::cerr << "pipeline: no stage type '" << only << "'" << (hint.empty() ? "" : " (did you mean '" + hint + "'?)")
              << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

void print_warnings(const Pipeline& pipeline) {
  for (const auto& warning : pipeline.warnings()) std::cerr << "warning: " << warning << "\n";
}

void print_summaries(const Pipeline& pipeline) {
  for (const auto& node : pipeline.stages()) {
    const std::string text = node.stage->summary();
    if (!text.empty()) std::cout << node.name << " (" << node.spec->type << "):\n" << text << "\n";
  }
}

void print_banner(const Pipeline& pipeline) {
  const PipelineConfig& config = pipeline.config();
  std::cout << "pipeline " << version() << ": running '" << config.name << "' from " << config.file
            << " (seed " << config.seed << ", " << config.epochs << " epoch" << (config.epochs == 1 ? "" : "s")
            << ")\n";
  std::vector<std::string> types;
  for (const auto& node : pipeline.stages()) types.push_back(node.spec->type);
  for (const auto& line : version_lines(types)) std::cout << "  " << line << "\n";
  print_summaries(pipeline);
  std::cout.flush();
}

// Under mpirun a stop ends this rank at once: the ranks could not agree on a step to stop at without
// communicating, and one waiting in a collective for a rank that stopped would hang. What the run saved at its
// last epoch end stays intact (every write is atomic), and --resume continues from there.
extern "C" void on_stop_signal_in_job(int) {
  static const char message[] = "pipeline: stopped by a signal; --resume continues from the last saved epoch\n";
  if (world().rank() == 0) (void)!::write(2, message, sizeof message - 1);
  std::_Exit(kExitInterrupted);
}

extern "C" void on_stop_signal(int) {
  request_stop();
  // A second Ctrl-C kills at once.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

// Every rank builds the pipeline; a config error is reported once: by rank 0, or else by the first rank that
// met it (a file only its machine lacks). Ranks never wait in a collective for a rank that failed here.
Pipeline build_on_every_rank(const Args& args) {
  Communicator& ranks = world();
  std::optional<Pipeline> pipeline;
  std::string failure;  // exit code and message
  try {
    pipeline.emplace(Pipeline::build(load_config(args.config, args.overrides)));
  } catch (const ConfigError& e) {
    failure = std::to_string(kExitUsage) + "error: " + e.what();
  } catch (const std::exception& e) {
    failure = std::to_string(kExitFailure) + "error: " + describe_exception(e);
  }
  if (ranks.size() == 1 && failure.empty()) return std::move(*pipeline);
  const std::vector<std::string> all = ranks.size() == 1 ? std::vector<std::string>{failure} : ranks.all_gather(failure);
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) continue;
    if (static_cast<int>(r) == ranks.rank()) {
      const std::string line = all[r].substr(1) + (r > 0 ? " (on rank " + std::to_string(r) + ")" : "") + "\n";
      (void)!::write(2, line.data(), line.size());
    }
    throw RankExit{all[r][0] - '0'};
  }
  return std::move(*pipeline);
}

// `pipeline export`: the stage offering the format writes it.
int export_artifact(const Args& args) {
  if (args.output.empty()) throw UsageError("export needs -o FILE (e.g. -o model.onnx)");
  std::string format = args.format;
  if (format.empty()) {
    format = std::filesystem::path(args.output).extension().string();
    if (format.empty()) throw UsageError("export: give --format, or an -o file name with an extension (model.onnx)");
    format = format.substr(1);
  }
  Pipeline pipeline = Pipeline::build(load_config(args.config, args.overrides));
  std::vector<const StageNode*> offering;
  std::string formats;
  for (const StageNode& node : pipeline.stages()) {
    if (!args.stage.empty() && node.name != args.stage) continue;
    for (const std::string& f : node.stage->export_formats()) {
      formats += (formats.empty() ? "" : ", ") + f + " (stage '" + node.name + "')";
      if (f == format) offering.push_back(&node);
    }
  }
  const std::string where = args.stage.empty() ? args.config : "stage '" + args.stage + "' of " + args.config;
  if (!args.stage.empty() && formats.empty() &&
      std::none_of(pipeline.stages().begin(), pipeline.stages().end(), [&](const StageNode& n) { return n.name == args.stage; }))
    throw UsageError("export: " + args.config + " has no stage '" + args.stage + "'");
  if (offering.empty())
    throw UsageError("export: nothing in " + where + " exports '" + format + "'" +
                     (formats.empty() ? " (no stage there exports anything)" : "; it offers: " + formats));
  if (offering.size() > 1) throw UsageError("export: several stages export '" + format + "'; choose one with --stage NAME");
  const StageNode& node = *offering.front();
  ExportRequest request{format, args.output, args.checkpoint, pipeline.context()};
  try {
    node.stage->export_to(request);
  } catch (const StageError&) {
    throw;
  } catch (const std::exception& e) {
    throw StageError(node.name, describe_exception(e));
  }
  std::cout << "wrote " << args.output << " (" << format << ", from stage '" << node.name << "')\n";
  return kExitOk;
}

int run(const Args& args) {
  const bool in_job = world().size() > 1;
  Pipeline pipeline = build_on_every_rank(args);
  if (world().rank() == 0) print_warnings(pipeline);
  clear_stop_request();
  std::signal(SIGINT, in_job ? on_stop_signal_in_job : on_stop_signal);
  std::signal(SIGTERM, in_job ? on_stop_signal_in_job : on_stop_signal);
  RunOptions options;
  options.threads = args.threads;
  options.profile = args.profile;
  options.resume = args.resume;
  options.on_start = [&pipeline] {
    if (world().rank() == 0) print_banner(pipeline);
  };
  Profile profile = pipeline.run(options);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (args.profile && world().rank() == 0) std::cout << "\nprofile:\n" << profile.table();
  if (stop_flag().load()) {
    std::cerr << "pipeline: interrupted; stages finished cleanly (continue with --resume)\n";
    return kExitInterrupted;
  }
  return kExitOk;
}


// With several ranks, a failure on one rank ends the whole job at once (the others may wait in a collective
// for it); errors every rank meets alike are reported once.
bool g_in_job_run = false;  // `run` under mpirun with more than one rank

int report(const std::string& message, int code) {
  Communicator& ranks = world();
  if (!g_in_job_run) {
    std::cerr << message << "\n";
    return code;
  }
  // One write: mpirun forwards each rank's output in the pieces it was written in, between other ranks' lines.
  const std::string line = message + " (on rank " + std::to_string(ranks.rank()) + " of " +
                           std::to_string(ranks.size()) + ")\n";
  (void)!::write(2, line.data(), line.size());
  // mpirun answers the abort by signalling every rank, this one too: that is no news to the user.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  abort_world(code);
}

int dispatch(int argc, char** argv) {
  if (argc >= 2) {
    const std::string first = argv[1];
    // `pipeline --help`, and `pipeline VERB --help` (one text serves every verb).
    for (int i = 1; i < argc; ++i) {
      const std::string word = argv[i];
      if (word == "--help" || word == "-h" || (i == 1 && word == "help")) {
        std::cout << kUsage;
        return kExitOk;
      }
    }
    if (first == "--version") {
      print_version();
      return kExitOk;
    }
  }
  if (argc >= 2 && std::string(argv[1]) == "init") return init(argc, argv);
  Args args = parse_args(argc, argv);
  std::vector<PluginRef> plugins;
  for (const auto& name : args.plugins) plugins.push_back(PluginRef{name, SourceLocation{"--plugin " + name, 0, 0}});
  load_plugins(plugins);
  if (args.command == "stages") return list_stages(args.config);
  if (args.command != "run" && args.command != "validate" && args.command != "graph" && args.command != "export")
    throw UsageError("unknown command '" + args.command + "'");
  if (args.config.empty()) throw UsageError(args.command + " needs a CONFIG file");
  if (args.command == "run") return run(args);
  if (args.command == "export") return export_artifact(args);
  Pipeline pipeline = Pipeline::build(load_config(args.config, args.overrides));
  if (args.command == "graph") {
    std::cout << pipeline.to_dot();
    return kExitOk;
  }
  print_warnings(pipeline);
  print_summaries(pipeline);
  std::cout << args.config << ": ok (" << pipeline.stages().size() << " stages)\n";
  return kExitOk;
}

}  // namespace

int cli_main(int argc, char** argv) {
  const WorldGuard mpi = start_world(argc, argv);
  // Commands other than `run` have nothing to share between ranks: rank 0 alone answers.
  const bool is_run = argc >= 2 && std::string(argv[1]) == "run";
  if (world().size() > 1 && world().rank() != 0 && !is_run) return kExitOk;
  g_in_job_run = is_run && world().size() > 1;
  try {
    return dispatch(argc, argv);
  } catch (const RankExit& e) {
    return e.code;
  } catch (const ReportedByRankZero&) {
    return kExitFailure;
  } catch (const JobWideError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitFailure;
  } catch (const UsageError& e) {
    std::cerr << "pipeline: " << e.what() << "\n\n" << kUsage;
    return kExitUsage;
  } catch (const ConfigError& e) {
    return report("error: " + std::string(e.what()), kExitUsage);
  } catch (const StageError& e) {
    return report("error: " + std::string(e.what()), kExitFailure);
  } catch (const std::exception& e) {
    return report("error: " + describe_exception(e), kExitFailure);
  }
}

}  // namespace pipeline
