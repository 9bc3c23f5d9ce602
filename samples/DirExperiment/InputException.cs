namespace DirExperiment;

/// <summary>The data or the results folder cannot be used: the message says what is wrong and where (file, line, column).</summary>
internal sealed class InputException(string message) : Exception(message);
