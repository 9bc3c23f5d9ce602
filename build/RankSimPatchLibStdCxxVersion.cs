// MSBuild task compiled by RoslynCodeTaskFactory from build/RankSim.TorchSharp.targets, against netstandard2.0
// (so no spans, BinaryPrimitives or newer File APIs).
#nullable enable
// Marks one symbol-version requirement of libLibTorchSharp.so as weak (VER_FLG_WEAK) so that the library loads
// on a system libstdc++ that lacks that version. Only ELF64 little-endian files are handled.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class RankSimPatchLibStdCxxVersion : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;
    private const string LibraryName = "libLibTorchSharp.so";

    private static readonly string[] SystemLibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    };

    /// <summary>Folder searched (recursively) for copies of libLibTorchSharp.so.</summary>
    [Required]
    public string SearchDirectory { get; set; } = "";

    /// <summary>Version requirement to mark weak, e.g. GLIBCXX_3.4.32.</summary>
    [Required]
    public string VersionName { get; set; } = "";

    /// <summary>Only find out whether a library in <see cref="SearchDirectory"/> would fail to load; change nothing, log nothing.</summary>
    public bool CheckOnly { get; set; }

    /// <summary>
    /// Set in every mode: true when the system libstdc++ lacks <see cref="VersionName"/> and a copy of
    /// libLibTorchSharp.so in <see cref="SearchDirectory"/> requires it and is not patched (so it would not load).
    /// </summary>
    [Output]
    public bool WouldFailToLoad { get; set; }

    public override bool Execute()
    {
        const string prefix = "RankSim libstdc++ compat:";
        if (CheckOnly)
        {
            WouldFailToLoad = Directory.Exists(SearchDirectory) && SystemLacksVersion()
                && Directory.EnumerateFiles(SearchDirectory, LibraryName, SearchOption.AllDirectories).Any(RequiresStrictly);
            return true;
        }

        if (!Directory.Exists(SearchDirectory))
        {
            Log.LogMessage(MessageImportance.High, "{0} {1} does not exist; nothing to do.", prefix, SearchDirectory);
            return true;
        }

        string? systemLibrary = FindSystemLibStdCxx();
        if (systemLibrary != null && FileContains(systemLibrary, VersionName))
        {
            Log.LogMessage(MessageImportance.Normal, "{0} {1} provides {2}; nothing to do.", prefix, systemLibrary, VersionName);
            return true;
        }

        var results = new List<string>();
        foreach (string file in Directory.EnumerateFiles(SearchDirectory, LibraryName, SearchOption.AllDirectories))
        {
            string relative = file.StartsWith(SearchDirectory, StringComparison.Ordinal) ? file.Substring(SearchDirectory.Length).TrimStart('/') : file;
            try
            {
                results.Add(relative + ": " + PatchFile(file, VersionName));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                Log.LogError("{0} could not patch {1}: {2}", prefix, file, ex.Message);
                return false;
            }
        }

        string summary = results.Count == 0 ? "no " + LibraryName + " found" : string.Join("; ", results);
        Log.LogMessage(MessageImportance.High, "{0} system libstdc++ lacks {1}; {2}", prefix, VersionName, summary);
        return true;
    }

    private bool SystemLacksVersion()
    {
        string? systemLibrary = FindSystemLibStdCxx();
        return systemLibrary == null || !FileContains(systemLibrary, VersionName);
    }

    /// <summary>Whether the library requires <see cref="VersionName"/> without the weak flag.</summary>
    private bool RequiresStrictly(string path)
    {
        try
        {
            byte[] image = File.ReadAllBytes(path);
            long flagsOffset = FindVernauxFlagsOffset(image, VersionName);
            return flagsOffset >= 0 && (ReadU16(image, flagsOffset) & VerFlgWeak) == 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return false;
        }
    }

    private static string? FindSystemLibStdCxx()
    {
        foreach (string candidate in SystemLibStdCxxCandidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool FileContains(string path, string text)
    {
        byte[] needle = Encoding.ASCII.GetBytes(text + "\0");
        byte[] haystack = File.ReadAllBytes(path);
        for (int start = Array.IndexOf(haystack, needle[0]); start >= 0 && start <= haystack.Length - needle.Length;
             start = Array.IndexOf(haystack, needle[0], start + 1))
        {
            int matched = 1;
            while (matched < needle.Length && haystack[start + matched] == needle[matched])
            {
                matched++;
            }

            if (matched == needle.Length)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Returns what was done: "marked weak", "already weak" or "does not require it".</summary>
    private static string PatchFile(string path, string versionName)
    {
        byte[] image = File.ReadAllBytes(path);
        long flagsOffset = FindVernauxFlagsOffset(image, versionName);
        if (flagsOffset < 0)
        {
            return "does not require " + versionName;
        }

        ushort flags = ReadU16(image, flagsOffset);
        if ((flags & VerFlgWeak) != 0)
        {
            return "already weak";
        }

        WriteU16(image, flagsOffset, (ushort)(flags | VerFlgWeak));

        // Write a new file and rename it over the copy: a hard link or symbolic link into the NuGet cache is
        // replaced, never written through.
        string temporary = path + ".ranksim-tmp";
        File.WriteAllBytes(temporary, image);

        // Keep the copy's time stamp so that an incremental build sees an unchanged file and does not copy it again.
        File.SetLastWriteTimeUtc(temporary, File.GetLastWriteTimeUtc(path));
        File.Delete(path);
        File.Move(temporary, path);
        return "marked weak";
    }

    private static long FindVernauxFlagsOffset(byte[] image, string versionName)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (image[4] != 2 || image[5] != 1)
        {
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        }

        long sectionHeaders = (long)ReadU64(image, 0x28);
        int sectionHeaderSize = ReadU16(image, 0x3A);
        int sectionCount = ReadU16(image, 0x3C);
        for (int s = 0; s < sectionCount; s++)
        {
            long header = sectionHeaders + (long)s * sectionHeaderSize;
            if (ReadU32(image, header + 4) != ShtGnuVerneed)
            {
                continue;
            }

            long sectionOffset = (long)ReadU64(image, header + 0x18);
            uint stringSectionIndex = ReadU32(image, header + 0x28);
            uint needCount = ReadU32(image, header + 0x2C);
            long stringHeader = sectionHeaders + stringSectionIndex * sectionHeaderSize;
            long stringsOffset = (long)ReadU64(image, stringHeader + 0x18);

            long need = sectionOffset;
            for (uint n = 0; n < needCount; n++)
            {
                ushort auxCount = ReadU16(image, need + 2);
                long aux = need + ReadU32(image, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    uint nameOffset = ReadU32(image, aux + 8);
                    if (ReadString(image, stringsOffset + nameOffset) == versionName)
                    {
                        return aux + 4;
                    }

                    aux += ReadU32(image, aux + 12);
                }

                need += ReadU32(image, need + 12);
            }
        }

        return -1;
    }

    private static void CheckRange(byte[] image, long offset, int length)
    {
        if (offset < 0 || offset + length > image.Length)
        {
            throw new InvalidDataException("ELF structure points outside the file");
        }
    }

    private static ushort ReadU16(byte[] image, long offset)
    {
        CheckRange(image, offset, 2);
        return (ushort)(image[offset] | image[offset + 1] << 8);
    }

    private static void WriteU16(byte[] image, long offset, ushort value)
    {
        CheckRange(image, offset, 2);
        image[offset] = (byte)value;
        image[offset + 1] = (byte)(value >> 8);
    }

    private static uint ReadU32(byte[] image, long offset)
    {
        CheckRange(image, offset, 4);
        return ReadU16(image, offset) | (uint)ReadU16(image, offset + 2) << 16;
    }

    private static ulong ReadU64(byte[] image, long offset)
    {
        CheckRange(image, offset, 8);
        return ReadU32(image, offset) | (ulong)ReadU32(image, offset + 4) << 32;
    }

    private static string ReadString(byte[] image, long offset)
    {
        CheckRange(image, offset, 1);
        int end = Array.IndexOf(image, (byte)0, (int)offset);
        if (end < 0)
        {
            throw new InvalidDataException("unterminated ELF string");
        }

        return Encoding.ASCII.GetString(image, (int)offset, end - (int)offset);
    }
}
