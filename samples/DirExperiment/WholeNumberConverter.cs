using System.ComponentModel;
using System.Globalization;

namespace DirExperiment;

/// <summary>Reads an whole-number option (<c>int</c> or <c>int?</c>) with an error message a user can act on.</summary>
internal sealed class WholeNumberConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) => sourceType == typeof(string);

    public override object ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        int.TryParse(value as string, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number)
            ? number
            : throw new FormatException($"'{value}' is not a whole number.");
}
