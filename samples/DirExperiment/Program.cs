// DirExperiment: one model, several DIR methods, paired seeds, the DIR table, paired RankSim differences, files and plots.
using DirExperiment;
using Spectre.Console;
using Spectre.Console.Cli;

if (Console.IsOutputRedirected)
{
    // Logs and pipes: help and tables wide enough not to wrap.
    AnsiConsole.Profile.Width = 160;
}

var app = new CommandApp<ExperimentCommand>();
app.Configure(config =>
{
    config.SetApplicationName("DirExperiment");
    config.Settings.StrictParsing = true;
    config.AddExample("--methods", "Vanilla,RankSim");
    config.AddExample("--quick");
    config.AddExample("--dataset", "randhie");
    config.AddExample("--dataset", "agedb-like", "--methods", "Vanilla,RankSim", "--gamma", "1");
    config.AddExample("--dataset", "csv", "--data", "prices.csv", "--label", "price");

    // One line per error, no stack trace: 2 for a wrong command line, 1 for data, output or training errors.
    config.SetExceptionHandler((exception, _) =>
    {
        bool usage = exception is CommandAppException;
        Console.Error.WriteLine($"error: {Describe(exception).ReplaceLineEndings(" ")}");
        if (usage)
        {
            Console.Error.WriteLine("Run with --help for the options.");
        }

        return usage ? 2 : 1;
    });
});
return app.Run(args);

string Describe(Exception exception)
{
    if (exception is CommandRuntimeException { InnerException: { } conversion })
    {
        // Spectre's conversion errors name the value and the type, not the option: name the option that took the value.
        // An option given without its value is handed the name of the default command instead.
        if (exception.Message.Contains("'__default_command'", StringComparison.Ordinal))
        {
            string? bare = args.Where((a, i) => a.StartsWith("--", StringComparison.Ordinal) && a is not ("--quick" or "--help")
                && (i + 1 == args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))).FirstOrDefault();
            return $"{bare ?? "an option"} needs a value.";
        }

        int value = Array.FindIndex(args, a => exception.Message.Contains($"'{a}'", StringComparison.Ordinal));
        return value > 0 ? $"{args[value - 1]}: {conversion.Message}" : conversion.Message;
    }

    return exception is InputException or ArgumentException or CommandAppException
        ? exception.Message
        : $"{exception.GetType().Name}: {exception.Message}";
}
