using System.Diagnostics;
using Spectre.Console;

namespace DirExperiment;

/// <summary>
/// Live progress of a series of training runs: runs done of the total and the current run's epoch. In a terminal, a
/// Spectre.Console progress display; with redirected output, one line per finished run plus a line with the current
/// epoch whenever <see cref="QuietInterval"/> has passed without output, so a log never goes quiet for long.
/// </summary>
internal sealed class RunProgress : IDisposable
{
    /// <summary>The longest a redirected log stays without a line while training.</summary>
    public static readonly TimeSpan QuietInterval = TimeSpan.FromSeconds(10);

    private readonly object gate = new();
    private readonly int total;
    private readonly int epochs;
    private readonly Stopwatch sinceStart = Stopwatch.StartNew();
    private readonly Stopwatch sinceOutput = Stopwatch.StartNew();
    private readonly Timer? heartbeat;
    private readonly ProgressTask? overall;
    private readonly ProgressTask? current;
    private int done;
    private string run = "starting";
    private int epoch;
    private bool closed;

    private RunProgress(int total, int epochs, ProgressContext? live)
    {
        (this.total, this.epochs) = (total, epochs);
        if (live is not null)
        {
            overall = live.AddTask($"runs 0/{total}", maxValue: total);
            current = live.AddTask("starting", maxValue: epochs);
        }
        else
        {
            heartbeat = new Timer(_ => Beat(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Runs <paramref name="work"/> with a progress display for <paramref name="total"/> runs of up to <paramref name="epochs"/> epochs.</summary>
    public static void Show(int total, int epochs, Action<RunProgress> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .Start(live =>
                {
                    using var progress = new RunProgress(total, epochs, live);
                    work(progress);
                });
        }
        else
        {
            using var progress = new RunProgress(total, epochs, live: null);
            work(progress);
        }
    }

    /// <summary>A run has finished its epoch <paramref name="epochDone"/> (0 when it starts).</summary>
    public void Epoch(string runName, int epochDone)
    {
        lock (gate)
        {
            (run, epoch) = (runName, epochDone);
            if (current is not null)
            {
                current.Description = Markup.Escape($"{runName}: epoch {Math.Min(epochDone, epochs)}/{epochs}");
                current.Value = Math.Min(epochDone, epochs);
            }
        }
    }

    /// <summary>A run has finished; <paramref name="summary"/> is printed with its place in the series.</summary>
    public void Finished(string runName, string summary)
    {
        lock (gate)
        {
            done++;
            string line = $"  [{done}/{total}] {runName}: {summary}";
            if (overall is not null)
            {
                overall.Value = done;
                overall.Description = $"runs {done}/{total}";
                AnsiConsole.MarkupLine(Markup.Escape(line));
            }
            else
            {
                Console.WriteLine(line);
                sinceOutput.Restart();
            }
        }
    }

    private void Beat()
    {
        lock (gate)
        {
            if (!closed && sinceOutput.Elapsed >= QuietInterval)
            {
                Console.WriteLine($"  [{done}/{total}] {run}: epoch {epoch}/{epochs} done, {sinceStart.Elapsed.TotalMinutes:F1} min so far");
                sinceOutput.Restart();
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            closed = true;
            current?.StopTask();
        }

        heartbeat?.Dispose();
    }
}
